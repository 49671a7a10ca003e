package loadgen

import (
	"slices"
	"time"
)

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the values
// at or below it. It returns 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999999)
	rank = max(1, min(rank, len(sorted)))
	return sorted[rank-1]
}

// Latency is the distribution of a run's request latencies.
type Latency struct {
	P50, P90, P99, Max time.Duration
}

// Summarize sorts d in place and returns its percentiles.
func Summarize(d []time.Duration) Latency {
	slices.Sort(d)
	if len(d) == 0 {
		return Latency{}
	}
	return Latency{P50: Percentile(d, 50), P90: Percentile(d, 90), P99: Percentile(d, 99), Max: d[len(d)-1]}
}
