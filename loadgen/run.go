// Package loadgen sends realistic signed webhooks at a receiver at a fixed
// concurrency and reports throughput, latency, errors and the CPU time and
// peak memory of the processes it is told to watch. `make bench` drives it
// through cmd/loadgen; see docs/BENCHMARKS.md.
package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Run is one measured burst.
type Run struct {
	// Name labels the result (the target: "api", "bare", ...); Round
	// numbers the interleaved round it belongs to.
	Name  string
	Round int
	// URL is where every event is posted.
	URL         string
	Concurrency int
	Events      []Event
	Signer      Signer
	// Watch names processes (e.g. "gateway", "redis") whose CPU time is
	// read before and after the burst, and whose peak RSS is read after.
	Watch map[string]int
	// Timeout bounds one request (default 10s).
	Timeout time.Duration
	// Rate, when > 0, makes the run open-loop: request i is due at
	// i/Rate seconds after the start whatever the answers before it, with
	// at most Concurrency requests in flight, and its latency counts from
	// when it was due, not from when it was sent. A target that falls
	// behind shows it in the percentiles (no coordinated omission) instead
	// of slowing the load. 0: closed loop, each sender waits for its
	// answer before the next request.
	Rate float64

	clock clock // nil: the wall clock (tests set another)
}

// clock is the time of a run.
type clock interface {
	Now() time.Time
	// SleepUntil waits until t (or ctx's end).
	SleepUntil(ctx context.Context, t time.Time)
}

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

func (wallClock) SleepUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
	case <-tm.C:
	}
}

// due is when request i of an open-loop run at rate requests/s starting at
// start is to be sent.
func due(start time.Time, i int, rate float64) time.Time {
	return start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
}

// Process is what a watched process used during a run.
type Process struct {
	PID        int     `json:"pid"`
	CPUSeconds float64 `json:"cpu_seconds"`
	// CPUPer1000 is CPU seconds per 1,000 requests sent.
	CPUPer1000 float64 `json:"cpu_seconds_per_1000"`
	// PeakRSS is VmHWM after the run: the process's peak since it started.
	PeakRSS int64 `json:"peak_rss_bytes"`
}

// Result is what a run measured.
type Result struct {
	Name        string `json:"name"`
	Round       int    `json:"round"`
	Provider    string `json:"provider"`
	Requests    int    `json:"requests"`
	Duplicates  int    `json:"duplicates"`
	Concurrency int    `json:"concurrency"`
	// Rate is the offered rate of an open-loop run (requests/s; 0:
	// closed loop). PerSecond is then what the target kept up with.
	Rate      float64 `json:"rate,omitempty"`
	Seconds   float64 `json:"seconds"`
	PerSecond float64 `json:"requests_per_second"`
	// OK counts 200 answers; Errors counts the others by status ("0":
	// no answer, a transport error).
	OK        int                `json:"ok"`
	Errors    map[string]int     `json:"errors"`
	P50ms     float64            `json:"p50_ms"`
	P90ms     float64            `json:"p90_ms"`
	P99ms     float64            `json:"p99_ms"`
	Maxms     float64            `json:"max_ms"`
	BodyBytes int                `json:"mean_body_bytes"`
	Processes map[string]Process `json:"processes"`
	// FirstError is one transport error or non-200 body, for diagnosis.
	FirstError string `json:"first_error,omitempty"`
}

// Do runs r: Concurrency senders take the events in order, each posting
// one and waiting for its answer before the next, over kept-alive
// connections; with a Rate, each also waits for the event's due time.
func (r Run) Do(ctx context.Context) (Result, error) {
	if r.Concurrency < 1 {
		r.Concurrency = 1
	}
	if r.clock == nil {
		r.clock = wallClock{}
	}
	if r.Timeout == 0 {
		r.Timeout = 10 * time.Second
	}
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        r.Concurrency,
		MaxIdleConnsPerHost: r.Concurrency,
		MaxConnsPerHost:     r.Concurrency,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: r.Timeout}

	before := map[string]float64{}
	for name, pid := range r.Watch {
		cpu, err := CPUSeconds(pid)
		if err != nil {
			return Result{}, err
		}
		before[name] = cpu
	}
	lat := make([]time.Duration, len(r.Events))
	status := make([]int, len(r.Events))
	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := r.clock.Now()
	for range r.Concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(r.Events) || ctx.Err() != nil {
					return
				}
				var t0 time.Time
				if r.Rate > 0 {
					t0 = due(start, i, r.Rate)
					r.clock.SleepUntil(ctx, t0)
				} else {
					t0 = r.clock.Now()
				}
				code, err := r.post(ctx, client, &r.Events[i])
				lat[i], status[i] = r.clock.Now().Sub(t0), code
				if err != nil {
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
		})
	}
	wg.Wait()
	elapsed := r.clock.Now().Sub(start)
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("run %s: %w", r.Name, err)
	}
	res := r.result(elapsed, lat, status)
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	for name, pid := range r.Watch {
		cpu, err := CPUSeconds(pid)
		if err != nil {
			return Result{}, err
		}
		rss, err := PeakRSS(pid)
		if err != nil {
			return Result{}, err
		}
		used := cpu - before[name]
		res.Processes[name] = Process{PID: pid, CPUSeconds: used, CPUPer1000: used / float64(len(r.Events)) * 1000, PeakRSS: rss}
	}
	return res, nil
}

func (r Run) result(elapsed time.Duration, lat []time.Duration, status []int) Result {
	res := Result{
		Name: r.Name, Round: r.Round, Provider: string(r.Signer.Provider), Requests: len(r.Events), Concurrency: r.Concurrency, Rate: r.Rate,
		Seconds: elapsed.Seconds(), Errors: map[string]int{}, Processes: map[string]Process{},
	}
	if elapsed > 0 {
		res.PerSecond = float64(len(r.Events)) / elapsed.Seconds()
	}
	body := 0
	for i, ev := range r.Events {
		body += len(ev.Body)
		if ev.Duplicate {
			res.Duplicates++
		}
		if status[i] == http.StatusOK {
			res.OK++
		} else {
			res.Errors[strconv.Itoa(status[i])]++
		}
	}
	if len(r.Events) > 0 {
		res.BodyBytes = body / len(r.Events)
	}
	l := Summarize(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.P50ms, res.P90ms, res.P99ms, res.Maxms = ms(l.P50), ms(l.P90), ms(l.P99), ms(l.Max)
	return res
}

// post sends one event and returns the answer's status (0 when there was
// none). The error describes a transport failure or a non-200 answer.
func (r Run) post(ctx context.Context, client *http.Client, ev *Event) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(ev.Body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ev.ContentType)
	for k, v := range ev.Header {
		req.Header[k] = v
	}
	name, sig := r.Signer.Sign(ev, time.Now())
	req.Header.Set(name, sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, fmt.Errorf("status %d: %.200s", resp.StatusCode, b)
	}
	return resp.StatusCode, nil
}
