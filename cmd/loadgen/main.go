// Command loadgen is the gateway's load generator: it posts unique,
// realistic, signed Stripe or Twilio webhooks (with a share of duplicates)
// at a fixed concurrency (or, with -rate, at a fixed rate), and reports requests/s, latency percentiles,
// errors, and the CPU time and peak RSS of the processes it watches.
//
//	loadgen run -url URL -provider stripe -n 10000 -c 32 -watch gateway=PID,redis=PID -json out.jsonl
//	loadgen run -url URL -provider stripe -n 10000 -c 32 -rate 4000 -json rate.jsonl  (open loop)
//	loadgen report -ceiling bare out.jsonl
//	loadgen drain -redis redis://127.0.0.1:PORT -watch gateway=PID
//
// scripts/bench.sh (make bench) drives it; see docs/BENCHMARKS.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

const usage = "usage: loadgen run|report|drain [flags] (loadgen CMD -h for each)"

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	switch args[0] {
	case "run":
		return runLoad(ctx, args[1:], getenv, stdout)
	case "report":
		return runReport(args[1:], stdout)
	case "drain":
		return runDrain(ctx, args[1:], stdout)
	}
	return fmt.Errorf("unknown command %q; %s", args[0], usage)
}
