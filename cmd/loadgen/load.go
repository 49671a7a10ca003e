package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/reserveeasy/gateway/loadgen"
)

func runLoad(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	url := fs.String("url", "", "base URL of the target, e.g. http://127.0.0.1:8080 (the webhook path is added)")
	provider := fs.String("provider", "stripe", "stripe or twilio")
	n := fs.Int("n", 10000, "requests to send")
	c := fs.Int("c", 32, "concurrent connections, each waiting for its answer before the next request (with -rate: the cap of requests in flight)")
	rate := fs.Float64("rate", 0, "open loop: send at this fixed rate (requests/s), latency counted from each request's due time; 0: closed loop")
	dup := fs.Float64("dup", 0.05, "share of requests repeating an earlier event (0 to 1)")
	failed := fs.Float64("failed", 0, "share of Stripe events that are payment_intent.payment_failed")
	bookings := fs.String("bookings", "", "FIRST-LAST: the events are about these bookings, one each (default: random ids)")
	name := fs.String("name", "target", "label of the target in the results")
	round := fs.Int("round", 1, "round number, for interleaved runs")
	watch := fs.String("watch", "", "processes to measure: name=pid,... (gateway=123,redis=456)")
	signURL := fs.String("sign-url", "", "base URL Twilio signatures cover (the target's PUBLIC_BASE_URL; default -url)")
	jsonOut := fs.String("json", "", "append the result as one JSON line to this file")
	seed := fs.Uint64("seed", 1, "seed of the event sequence")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		return errors.New("run: -url is required")
	}
	if *rate < 0 {
		return errors.New("run: -rate must be >= 0")
	}
	if *dup < 0 || *dup >= 1 || *failed < 0 || *failed > 1 {
		return errors.New("run: -dup must be in [0, 1) and -failed in [0, 1]")
	}
	pids, err := parseWatch(*watch)
	if err != nil {
		return err
	}
	ids, err := parseRange(*bookings)
	if err != nil {
		return err
	}
	p := loadgen.Provider(*provider)
	path := "/api/v1/webhooks/stripe/payment-events"
	switch p {
	case loadgen.Stripe:
	case loadgen.Twilio:
		path = "/api/v1/webhooks/twilio/sms-status"
	default:
		return fmt.Errorf("run: unknown provider %q", *provider)
	}
	base := strings.TrimRight(*url, "/")
	sign := strings.TrimRight(*signURL, "/")
	if sign == "" {
		sign = base
	}
	signer := loadgen.Signer{Provider: p, URL: sign + path,
		StripeSecret: getenv("STRIPE_WEBHOOK_SECRET"), TwilioToken: getenv("TWILIO_AUTH_TOKEN")}
	events := loadgen.Generate(loadgen.Mix{Provider: p, Duplicates: *dup, Failed: *failed, BookingIDs: ids, Seed: *seed}, *n, *c)
	res, err := loadgen.Run{Name: *name, Round: *round, URL: base + path, Concurrency: *c, Rate: *rate,
		Events: events, Signer: signer, Watch: pids}.Do(ctx)
	if err != nil {
		return err
	}
	rows := loadgen.SummarizeResults([]loadgen.Result{res}, "")
	write := loadgen.WriteTable
	if res.Rate > 0 {
		write = loadgen.WriteRateTable
	}
	if err := write(stdout, rows); err != nil {
		return err
	}
	if res.FirstError != "" {
		fmt.Fprintf(stdout, "first error: %s\n", res.FirstError)
	}
	if *jsonOut != "" {
		return appendJSON(*jsonOut, res)
	}
	return json.NewEncoder(stdout).Encode(res)
}

func appendJSON(path string, v any) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("open results: %w", err)
	}
	if err := json.NewEncoder(f).Encode(v); err != nil {
		f.Close()
		return fmt.Errorf("write results: %w", err)
	}
	return f.Close()
}

// parseWatch reads "name=pid,name=pid".
func parseWatch(s string) (map[string]int, error) {
	out := map[string]int{}
	if s == "" {
		return out, nil
	}
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		pid, err := strconv.Atoi(v)
		if !ok || k == "" || err != nil || pid <= 0 {
			return nil, fmt.Errorf("-watch: want name=pid, got %q", kv)
		}
		out[k] = pid
	}
	return out, nil
}

// parseRange reads "FIRST-LAST" into the ids from FIRST to LAST.
func parseRange(s string) ([]int64, error) {
	if s == "" {
		return nil, nil
	}
	a, b, ok := strings.Cut(s, "-")
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if !ok || err1 != nil || err2 != nil || first < 1 || last < first {
		return nil, fmt.Errorf("-bookings: want FIRST-LAST, got %q", s)
	}
	ids := make([]int64, 0, last-first+1)
	for id := first; id <= last; id++ {
		ids = append(ids, id)
	}
	return ids, nil
}
