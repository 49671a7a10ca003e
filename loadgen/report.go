package loadgen

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// Row is the summary of one target and provider over the rounds of a
// run: medians, and the range of the ratio to the ceiling.
type Row struct {
	Name, Provider string
	Rounds         int
	// Rate is the median offered rate of open-loop runs (0: closed loop).
	Rate      float64
	PerSecond float64
	// Ratio is the median over rounds of this target's requests/s divided
	// by the ceiling's in the same round; RatioMin and RatioMax its range.
	Ratio, RatioMin, RatioMax float64
	P50, P90, P99             float64 // ms, medians
	Requests, Errors          int     // totals
	ErrorsByStatus            map[string]int
	CPU                       map[string]float64 // seconds per 1,000 requests, medians
	PeakRSS                   map[string]int64   // bytes, max
}

// SummarizeResults groups results by target and provider (in first-seen order).
// ceiling names the target every other is compared with, round by round.
func SummarizeResults(results []Result, ceiling string) []Row {
	type key struct{ name, provider string }
	var order []key
	groups := map[key][]Result{}
	ceil := map[string]map[int]float64{} // provider -> round -> req/s
	for _, r := range results {
		k := key{r.Name, r.Provider}
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], r)
		if r.Name == ceiling {
			if ceil[r.Provider] == nil {
				ceil[r.Provider] = map[int]float64{}
			}
			ceil[r.Provider][r.Round] = r.PerSecond
		}
	}
	var rows []Row
	for _, k := range order {
		g := groups[k]
		row := Row{Name: k.name, Provider: k.provider, Rounds: len(g), ErrorsByStatus: map[string]int{},
			CPU: map[string]float64{}, PeakRSS: map[string]int64{}}
		var rps, p50, p90, p99, ratios, rates []float64
		cpu := map[string][]float64{}
		for _, r := range g {
			rps, p50, p90, p99 = append(rps, r.PerSecond), append(p50, r.P50ms), append(p90, r.P90ms), append(p99, r.P99ms)
			rates = append(rates, r.Rate)
			row.Requests += r.Requests
			for s, n := range r.Errors {
				row.ErrorsByStatus[s] += n
				row.Errors += n
			}
			for name, p := range r.Processes {
				cpu[name] = append(cpu[name], p.CPUPer1000)
				row.PeakRSS[name] = max(row.PeakRSS[name], p.PeakRSS)
			}
			if c := ceil[k.provider][r.Round]; c > 0 {
				ratios = append(ratios, r.PerSecond/c)
			}
		}
		row.PerSecond, row.P50, row.P90, row.P99 = median(rps), median(p50), median(p90), median(p99)
		row.Rate = median(rates)
		for name, v := range cpu {
			row.CPU[name] = median(v)
		}
		if len(ratios) > 0 {
			row.Ratio, row.RatioMin, row.RatioMax = median(ratios), slices.Min(ratios), slices.Max(ratios)
		}
		rows = append(rows, row)
	}
	return rows
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// WriteTable prints rows as a Markdown table.
func WriteTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "| target\t provider\t rounds\t req/s\t ratio to bare (range)\t p50 ms\t p90 ms\t p99 ms\t non-200\t gateway CPU s/1k\t redis CPU s/1k\t peak RSS gateway\t")
	fmt.Fprintln(tw, "|---\t---\t---:\t---:\t---:\t---:\t---:\t---:\t---\t---:\t---:\t---:\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "| %s\t %s\t %d\t %.0f\t %s\t %.2f\t %.2f\t %.2f\t %s\t %s\t %s\t %s\t\n",
			r.Name, r.Provider, r.Rounds, r.PerSecond, ratio(r), r.P50, r.P90, r.P99, errorsText(r),
			cpuText(r, "gateway"), cpuText(r, "redis"), rssText(r, "gateway"))
	}
	return tw.Flush()
}

// WriteRateTable prints rows of open-loop runs as a Markdown table: the
// offered rate, what the target kept up with, and the latencies counted
// from each request's due time.
func WriteRateTable(w io.Writer, rows []Row) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', tabwriter.Debug)
	fmt.Fprintln(tw, "| target\t provider\t rounds\t offered req/s\t achieved req/s\t p50 ms\t p90 ms\t p99 ms\t non-200\t gateway CPU s/1k\t redis CPU s/1k\t")
	fmt.Fprintln(tw, "|---\t---\t---:\t---:\t---:\t---:\t---:\t---:\t---\t---:\t---:\t")
	for _, r := range rows {
		fmt.Fprintf(tw, "| %s\t %s\t %d\t %.0f\t %.0f\t %.2f\t %.2f\t %.2f\t %s\t %s\t %s\t\n",
			r.Name, r.Provider, r.Rounds, r.Rate, r.PerSecond, r.P50, r.P90, r.P99, errorsText(r),
			cpuText(r, "gateway"), cpuText(r, "redis"))
	}
	return tw.Flush()
}

// OpenLoop reports whether rows are of open-loop (fixed-rate) runs.
func OpenLoop(rows []Row) bool {
	return len(rows) > 0 && slices.ContainsFunc(rows, func(r Row) bool { return r.Rate > 0 })
}

func ratio(r Row) string {
	if r.Ratio == 0 {
		return "-"
	}
	if r.Rounds == 1 {
		return fmt.Sprintf("%.2f", r.Ratio)
	}
	return fmt.Sprintf("%.2f (%.2f-%.2f)", r.Ratio, r.RatioMin, r.RatioMax)
}

func errorsText(r Row) string {
	if r.Errors == 0 {
		return "0"
	}
	var parts []string
	for s, n := range r.ErrorsByStatus {
		parts = append(parts, fmt.Sprintf("%s: %d", s, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

func cpuText(r Row, name string) string {
	v, ok := r.CPU[name]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.3f", v)
}

func rssText(r Row, name string) string {
	v, ok := r.PeakRSS[name]
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.0f MiB", float64(v)/(1<<20))
}
