// Package reconcile restores what lost webhooks would have done: it asks
// Stripe's events API and Twilio's messages API what happened, and the
// database which holds expired without being cancelled, and queues, for
// every item the gateway missed, the very task the webhook (or the
// scheduled auto-cancel) would have queued, under the same task id. The
// workers then apply it through the usual exactly-once path (the
// webhook_events row, the transitions' guards), so a reconciled event and
// its late webhook never both apply, and a second run finds nothing.
package reconcile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/metrics"
)

// Defaults of Options.
const (
	// DefaultSince is how far back a first run lists Stripe events (and how
	// far back SMS are followed up).
	DefaultSince = 72 * time.Hour
	// DefaultSMSGrace is how long an SMS may stay without a final status
	// before Twilio is asked about it.
	DefaultSMSGrace = 10 * time.Minute
	// DefaultHoldGrace is how late an auto-cancel must be before reconcile
	// queues it itself: the scheduled task gets the first minute.
	DefaultHoldGrace = time.Minute
)

// Source names, the values of Report.Source and of the source label.
const (
	SourceStripe = "stripe"
	SourceTwilio = "twilio"
	SourceHolds  = "holds"
)

// Queue puts a task on the queue under id unless it is there already
// (duplicate), like the webhook receiver does. queue.Ingress is one.
type Queue interface {
	Enqueue(ctx context.Context, id string, task *asynq.Task, guards ...string) (duplicate bool, err error)
}

// Store is what reconcile reads of the database (bookings.Store has it).
type Store interface {
	Events(ctx context.Context, f bookings.EventFilter) ([]bookings.EventRecord, error)
	ReconcilePoint(ctx context.Context, source string) (time.Time, error)
	SetReconcilePoint(ctx context.Context, source string, at time.Time) error
	ExpiredHolds(ctx context.Context, before time.Time) ([]bookings.Booking, error)
	UnfinishedSMS(ctx context.Context, after, before time.Time) ([]bookings.Booking, error)
}

// Config is what a Reconciler works with.
type Config struct {
	Store Store
	Queue Queue
	// Stripe lists events; nil skips Stripe (StripeOff says why).
	Stripe    *StripeEvents
	StripeOff string
	// Twilio fetches messages; nil skips Twilio (TwilioOff says why).
	Twilio    MessageFetcher
	TwilioOff string
	// Livemode, when set, is the only Stripe mode applied (STRIPE_LIVEMODE).
	Livemode *bool
	Metrics  *metrics.Metrics // may be nil
	Log      *slog.Logger
	Now      func() time.Time
}

// Options are one run's flags.
type Options struct {
	// Since is how far back to look when Stripe has no reconciled point
	// yet, and for SMS; 0 is DefaultSince.
	Since time.Duration
	// SMSGrace: 0 is DefaultSMSGrace.
	SMSGrace time.Duration
	// HoldGrace: 0 is DefaultHoldGrace.
	HoldGrace time.Duration
	// DryRun finds what is missing and queues nothing.
	DryRun bool
}

// Report is what one source looked at and did.
type Report struct {
	Source string
	// Skipped, when not "", says why the source did not run.
	Skipped string
	// LookedAt counts the items examined, Missing those the gateway had
	// not applied, Applied those whose task was queued now, AlreadyQueued
	// those whose task was in Redis already, Errors those that failed.
	LookedAt, Missing, Applied, AlreadyQueued, Errors int
	// Err is the source's failure (an API or database error), nil when
	// it ran through.
	Err error
}

// Failed reports whether the source failed.
func (r Report) Failed() bool { return r.Err != nil }

// Reconciler runs the three sources.
type Reconciler struct{ c Config }

// New returns a Reconciler over c.
func New(c Config) *Reconciler {
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{c: c}
}

// Run reconciles Stripe, Twilio and the holds, each independently of the
// others' failures, and reports per source.
func (r *Reconciler) Run(ctx context.Context, o Options) []Report {
	if o.Since <= 0 {
		o.Since = DefaultSince
	}
	if o.SMSGrace <= 0 {
		o.SMSGrace = DefaultSMSGrace
	}
	if o.HoldGrace <= 0 {
		o.HoldGrace = DefaultHoldGrace
	}
	reps := []Report{r.stripe(ctx, o), r.twilio(ctx, o), r.holds(ctx, o)}
	for _, rep := range reps {
		r.logReport(rep, o)
	}
	return reps
}

func (r *Reconciler) logReport(rep Report, o Options) {
	log := r.c.Log.With("component", "reconcile", "source", rep.Source, "dry_run", o.DryRun)
	switch {
	case rep.Skipped != "":
		log.Info("reconcile source skipped", "why", rep.Skipped)
	case rep.Err != nil:
		log.Error("reconcile source failed", "looked_at", rep.LookedAt, "missing", rep.Missing,
			"applied", rep.Applied, "already_queued", rep.AlreadyQueued, "errors", rep.Errors, "err", rep.Err)
	default:
		level := slog.LevelInfo
		if rep.Missing > 0 {
			level = slog.LevelWarn // webhooks were lost
		}
		log.Log(context.Background(), level, "reconciled", "looked_at", rep.LookedAt, "missing", rep.Missing,
			"applied", rep.Applied, "already_queued", rep.AlreadyQueued, "errors", rep.Errors)
	}
}

// count adds one outcome of source to the metric.
func (r *Reconciler) count(source, outcome string) {
	if r.c.Metrics != nil {
		r.c.Metrics.Reconciled.With(prometheus.Labels{"source": source, "outcome": outcome}).Inc()
	}
}

// checked records one item looked at.
func (r *Reconciler) checked(rep *Report) {
	rep.LookedAt++
	r.count(rep.Source, metrics.ReconcileChecked)
}

// missing records a missing item and, unless dry, queues its task: the
// outcome lands in rep. It returns the enqueue error.
func (r *Reconciler) missing(ctx context.Context, rep *Report, dry bool, id string, task *asynq.Task, log *slog.Logger) error {
	rep.Missing++
	r.count(rep.Source, metrics.ReconcileMissing)
	if dry {
		log.Info("missing (dry run: not queued)", "task_id", id)
		return nil
	}
	dup, err := r.c.Queue.Enqueue(ctx, id, task)
	switch {
	case err != nil:
		r.failedItem(rep)
		log.Error("could not queue the missing task", "task_id", id, "err", err)
		return fmt.Errorf("queue %s: %w", id, err)
	case dup:
		rep.AlreadyQueued++
		r.count(rep.Source, metrics.ReconcileAlreadyQueued)
		log.Info("missing, but its task is queued already", "task_id", id)
	default:
		rep.Applied++
		r.count(rep.Source, metrics.ReconcileApplied)
		log.Warn("missing: task queued", "task_id", id)
	}
	return nil
}

// applied reports whether webhook_events has the event.
func (r *Reconciler) applied(ctx context.Context, source, id string) (bool, error) {
	evs, err := r.c.Store.Events(ctx, bookings.EventFilter{Source: source, EventID: id, Limit: 1})
	if err != nil {
		return false, fmt.Errorf("look up %s event %s: %w", source, id, err)
	}
	return len(evs) > 0, nil
}

// errStop ends a source's loop early after too many failures in a row.
var errStop = errors.New("too many failures in a row; stopped")

// failedItem records an item that could not be reconciled.
func (r *Reconciler) failedItem(rep *Report) {
	rep.Errors++
	r.count(rep.Source, metrics.ReconcileError)
}
