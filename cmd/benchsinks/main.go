// Command benchsinks runs the two providers the workers talk to, for
// `make bench` (package loadgen/sinks): a Twilio Messages API double
// (POST .../Accounts/{sid}/Messages.json answers 201 with a message
// resource; GET lists them, as the worker's look-up before a re-send asks)
// on TWILIO_ADDR and an SMTP sink accepting every message on SMTP_ADDR.
// -twilio-latency and -smtp-latency (or TWILIO_LATENCY, SMTP_LATENCY)
// delay each answer like a real provider (Twilio about 250ms, SMTP about
// 150ms); GET /received on TWILIO_ADDR answers what each recipient got
// (SMS bodies per To, Message-IDs per email recipient, JSON). On SIGTERM
// it prints the counts and exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/reserveeasy/gateway/loadgen/sinks"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchsinks:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchsinks", flag.ContinueOnError)
	var cfg sinks.Config
	var err error
	if cfg.TwilioLatency, err = envDuration(getenv, "TWILIO_LATENCY"); err != nil {
		return err
	}
	if cfg.SMTPLatency, err = envDuration(getenv, "SMTP_LATENCY"); err != nil {
		return err
	}
	fs.DurationVar(&cfg.TwilioLatency, "twilio-latency", cfg.TwilioLatency, "delay before each Twilio API answer")
	fs.DurationVar(&cfg.SMTPLatency, "smtp-latency", cfg.SMTPLatency, "delay before the answer to each message's DATA")
	if err := fs.Parse(args); err != nil {
		return err
	}
	tw, sm := getenv("TWILIO_ADDR"), getenv("SMTP_ADDR")
	if tw == "" || sm == "" {
		return fmt.Errorf("set TWILIO_ADDR and SMTP_ADDR (host:port)")
	}
	s := sinks.New(cfg)
	defer s.Close()
	hs := &http.Server{Addr: tw, Handler: s.Twilio(), ReadHeaderTimeout: 10 * time.Second}
	ss := smtp.NewServer(s.SMTP())
	ss.Addr, ss.Domain, ss.AllowInsecureAuth = sm, "localhost", true
	errc := make(chan error, 2)
	go func() { errc <- hs.ListenAndServe() }()
	go func() { errc <- ss.ListenAndServe() }()
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	s.Close()
	hs.Close()
	ss.Close()
	n, e := s.Counts()
	fmt.Fprintf(stdout, "sms %d email %d\n", n, e)
	return err
}

func envDuration(getenv func(string) string, k string) (time.Duration, error) {
	v := getenv(k)
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", k, err)
	}
	return d, nil
}
