package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/config"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/reconcile"
)

// reconcileLease is the lease that keeps reconciliation to one run at a
// time per deployment (gateway:lease:reconcile), renewed while a run lasts.
const (
	reconcileLeaseName = "reconcile"
	reconcileLease     = 2 * time.Minute
)

// newReconciler wires the reconciliation: the store, the receiver's own
// queue (same task ids, same Redis), Stripe when STRIPE_API_KEY is set,
// Twilio when the gateway sends SMS through it.
func newReconciler(cfg config.Config, store bookings.Store, rd *queue.Redis, m *metrics.Metrics, log *slog.Logger) *reconcile.Reconciler {
	c := reconcile.Config{Store: store, Queue: queue.NewIngress(rd, completedRetention, cfg.DedupeTTL),
		Livemode: cfg.StripeLivemode, Metrics: m, Log: log}
	if cfg.StripeAPIKey != "" {
		c.Stripe = reconcile.NewStripeEvents(cfg.StripeAPIKey, cfg.StripeAPIBaseURL)
	} else {
		c.StripeOff = "STRIPE_API_KEY is unset"
	}
	if cfg.SendsSMS() {
		t, err := notifications.NewTwilioTexter(cfg.TwilioAccountSID, cfg.TwilioAuthTokens[0], cfg.TwilioFromNumber, cfg.TwilioAPIBaseURL)
		if err == nil {
			c.Twilio = t
		} else {
			c.TwilioOff = "Twilio settings unusable: " + err.Error()
		}
	} else {
		c.TwilioOff = "no SMS are sent through Twilio (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER)"
	}
	return reconcile.New(c)
}

func runReconcile(ctx context.Context, e *env, args []string) error {
	fs := e.flags("reconcile", "usage: gateway reconcile [--since DURATION] [--sms-grace DURATION] [--hold-grace DURATION] [--dry-run]\n\n"+
		"Recover what webhooks missed: Stripe events (events API) not in webhook_events, SMS statuses\n"+
		"(Twilio's messages API) never called back, expired holds never cancelled. Each is queued as the\n"+
		"task its webhook would have queued; a running worker applies it. A second run applies nothing.")
	var o reconcile.Options
	fs.DurationVar(&o.Since, "since", reconcile.DefaultSince, "how far back to list Stripe events when none were reconciled yet, and to follow SMS up")
	fs.DurationVar(&o.SMSGrace, "sms-grace", reconcile.DefaultSMSGrace, "how long an SMS may go without a final status before Twilio is asked")
	fs.DurationVar(&o.HoldGrace, "hold-grace", reconcile.DefaultHoldGrace, "how long after its hold expired an unpaid booking is cancelled here rather than by its scheduled auto-cancel")
	fs.BoolVar(&o.DryRun, "dry-run", false, "find and print what is missing; queue nothing")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("reconcile takes no arguments (got %q)", fs.Args())
	}
	cfg, log, err := loadConfig(e)
	if err != nil {
		return err
	}
	t, err := openTools(ctx, e, true)
	if err != nil {
		return err
	}
	defer t.Close()
	rec := newReconciler(cfg, t.store, t.redis, nil, log)
	var reps []reconcile.Report
	ran, err := queue.NewLease(t.redis, reconcileLeaseName, reconcileLease).Hold(ctx, func(ctx context.Context) error {
		reps = rec.Run(ctx, o)
		return nil
	})
	switch {
	case err != nil && !ran:
		return fmt.Errorf("take the reconcile lease: %w", err)
	case !ran:
		return errors.New("another reconcile is running in this deployment (a worker's RECONCILE_INTERVAL or another `gateway reconcile`): try again when it is done")
	}
	printReports(e.stdout, reps, o.DryRun)
	var failed []string
	for _, r := range reps {
		if r.Failed() {
			failed = append(failed, r.Source)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("reconcile failed for %s (see above)", strings.Join(failed, ", "))
	}
	return err
}

// printReports prints one line per source, then each failure.
func printReports(w io.Writer, reps []reconcile.Report, dry bool) {
	if dry {
		fmt.Fprintln(w, "Dry run: nothing was queued.")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tLOOKED AT\tMISSING\tAPPLIED\tALREADY QUEUED\tERRORS")
	for _, r := range reps {
		if r.Skipped != "" {
			fmt.Fprintf(tw, "%s\tskipped: %s\t\t\t\t\n", r.Source, r.Skipped)
			continue
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\n", r.Source, r.LookedAt, r.Missing, r.Applied, r.AlreadyQueued, r.Errors)
	}
	tw.Flush()
	for _, r := range reps {
		if r.Err != nil {
			for _, line := range strings.Split(r.Err.Error(), "\n") {
				fmt.Fprintf(w, "%s: FAILED: %s\n", r.Source, line)
			}
		}
	}
	applied := 0
	for _, r := range reps {
		applied += r.Applied
	}
	if applied > 0 {
		fmt.Fprintf(w, "%d missed item(s) queued: a running worker applies them (gateway events, gateway inspect).\n", applied)
	}
}

// reconcileEvery runs the reconciliation at start (a restart often
// follows the outage that lost webhooks) and then every interval until ctx
// ends, one run at a time per deployment (the reconcile lease): a worker
// whose turn it is not skips the tick.
func (a *app) reconcileEvery(ctx context.Context, rec *reconcile.Reconciler, interval time.Duration) {
	lease := queue.NewLease(a.redis, reconcileLeaseName, reconcileLease)
	t := time.NewTicker(interval)
	defer t.Stop()
	for first := true; ; first = false {
		if !first {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		if !a.migrated.Load() {
			continue
		}
		ran, err := lease.Hold(ctx, func(ctx context.Context) error {
			rec.Run(ctx, reconcile.Options{})
			return nil
		})
		switch {
		case err != nil:
			a.log.Warn("periodic reconcile did not run", "err", err)
		case !ran:
			a.log.Debug("periodic reconcile skipped: another process runs it")
		}
	}
}
