package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/loadgen"
)

// drained is what `loadgen drain` measured.
type drained struct {
	Queue   string  `json:"queue"`
	Initial int     `json:"initial_pending"`
	Seconds float64 `json:"seconds"`
	// PerSecond is the tasks that left the queue (applied, or archived
	// or put back for retry) per second, from the first one to the last.
	PerSecond float64            `json:"events_per_second"`
	Archived  int                `json:"archived"`
	Retry     int                `json:"retry"`
	Processes map[string]float64 `json:"cpu_seconds"`
	PeakRSS   map[string]int64   `json:"peak_rss_bytes"`
}

// runDrain waits until a queue filled beforehand is empty (nothing pending
// or active) and reports how fast the workers emptied it.
func runDrain(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("drain", flag.ContinueOnError)
	redisURL := fs.String("redis", "", "redis:// URL of the queue")
	queue := fs.String("queue", "webhooks", "Asynq queue")
	watch := fs.String("watch", "", "processes to measure: name=pid,...")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	jsonOut := fs.String("json", "", "write the result as one JSON line to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	opt, err := asynq.ParseRedisURI(*redisURL)
	if err != nil {
		return fmt.Errorf("drain: %w", err)
	}
	pids, err := parseWatch(*watch)
	if err != nil {
		return err
	}
	in := asynq.NewInspector(opt)
	defer in.Close()
	before := map[string]float64{}
	for name, pid := range pids {
		if before[name], err = loadgen.CPUSeconds(pid); err != nil {
			return err
		}
	}
	info, err := in.GetQueueInfo(*queue)
	if err != nil {
		return fmt.Errorf("drain: read queue %s: %w", *queue, err)
	}
	d := drained{Queue: *queue, Initial: info.Pending, Processes: map[string]float64{}, PeakRSS: map[string]int64{}}
	var first time.Time
	deadline := time.Now().Add(*timeout)
	for info.Pending+info.Active > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("drain: %d pending and %d active after %s", info.Pending, info.Active, *timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if info, err = in.GetQueueInfo(*queue); err != nil {
			return fmt.Errorf("drain: read queue %s: %w", *queue, err)
		}
		if first.IsZero() && info.Pending < d.Initial {
			first = time.Now()
		}
	}
	if !first.IsZero() {
		d.Seconds = time.Since(first).Seconds()
		d.PerSecond = float64(d.Initial) / d.Seconds
	}
	d.Archived, d.Retry = info.Archived, info.Retry
	for name, pid := range pids {
		cpu, err := loadgen.CPUSeconds(pid)
		if err != nil {
			return err
		}
		d.Processes[name] = cpu - before[name]
		if d.PeakRSS[name], err = loadgen.PeakRSS(pid); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(d)
	fmt.Fprintf(stdout, "drained %d tasks from %s in %.1f s: %.0f per second (archived %d, retry %d)\n",
		d.Initial, d.Queue, d.Seconds, d.PerSecond, d.Archived, d.Retry)
	if *jsonOut != "" {
		return appendJSON(*jsonOut, json.RawMessage(b))
	}
	fmt.Fprintln(stdout, string(b))
	return nil
}
