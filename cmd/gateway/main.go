// Command gateway receives Twilio SMS status callbacks and Stripe payment
// events for ReserveEasy, queues them in Redis with Asynq and applies them to
// bookings. See README.md for the commands and settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/redis/go-redis/v9"
)

func main() {
	// go-redis prints every failed dial of its pool; the gateway reports
	// Redis trouble itself (503s, /readyz, worker health checks).
	redis.SetLogger(quietRedisLog{})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			fmt.Fprintln(os.Stderr, "gateway:", line)
		}
		os.Exit(1)
	}
}

// quietRedisLog sends go-redis's internal messages to debug level.
type quietRedisLog struct{}

func (quietRedisLog) Printf(ctx context.Context, format string, v ...any) {
	slog.DebugContext(ctx, fmt.Sprintf(format, v...), "component", "go-redis")
}

// command is one subcommand of the gateway binary.
type command struct {
	name, usage, help string
	run               func(ctx context.Context, e *env, args []string) error
	ownFlags          bool // run parses its own flags (and --help)
}

// env is what every command gets: the environment and the output streams.
type env struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

func commands() []command {
	return []command{
		{"serve", "gateway [serve]", "HTTP receiver and Asynq worker in one process (the default)", runServe, false},
		{"api", "gateway api", "HTTP receiver only (run several behind a load balancer)", runAPI, false},
		{"worker", "gateway worker", "Asynq worker only", runWorker, false},
		{"migrate", "gateway migrate", "apply database migrations and exit", runMigrate, false},
		{"events", "gateway events [flags]", "list recent webhook events and what they did", runEvents, true},
		{"inspect", "gateway inspect EVENT_ID", "show what happened to one event: task, attempts, booking, messages", runInspect, true},
		{"demo", "gateway demo [--url URL]", "post signed sample webhooks to a running gateway and show what they did", runDemo, true},
		{"replay", "gateway replay (--event ID | --type T | --all)", "run archived tasks again", runReplay, true},
		{"trigger", "gateway trigger TYPE --booking ID", "post one signed event of a chosen type for a booking, offline (Stripe and Twilio)", runTrigger, true},
		{"bookings", "gateway bookings create --name --phone --email", "create a booking to test against", runBookings, true},
		{"reconcile", "gateway reconcile [--since DURATION] [--dry-run]", "recover what webhooks missed, from Stripe's and Twilio's APIs and the database's holds", runReconcile, true},
		{"healthcheck", "gateway healthcheck", "exit 0 when this gateway's /readyz answers 200 (container healthchecks)", runHealthcheck, false},
	}
}

// run is the whole program: tests call it with their own args and env.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	e := &env{getenv: getenv, stdout: stdout, stderr: stderr}
	name := "serve"
	switch {
	case len(args) > 0 && (isHelp(args[0]) || args[0] == "help"):
		usage(stdout)
		return nil
	case len(args) > 0 && !strings.HasPrefix(args[0], "-"):
		name, args = args[0], args[1:]
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		if c.ownFlags {
			return c.run(ctx, e, args)
		}
		fs := e.flags(c.name, fmt.Sprintf("usage: %s\n\n%s.\n\nSettings come from the environment; see README.md.", c.usage, c.help))
		if err := fs.Parse(args); err != nil {
			return err
		}
		return c.run(ctx, e, fs.Args())
	}
	usage(stderr)
	return fmt.Errorf("unknown command %q", name)
}

// flags is a command's flag set: errors go to stderr, --help prints usage
// and the flags' defaults to stdout.
func (e *env) flags(name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintln(e.stdout, usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	return fs
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: gateway <command>\n\nCommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-16s %s\n", c.name, c.help)
	}
	fmt.Fprintln(w, "\nRun 'gateway <command> --help' for one command. Settings come from the environment; see README.md.")
}
