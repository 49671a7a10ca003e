// Package jobs is the workers: the Asynq handlers that apply the tasks of
// package tasks to bookings, and deliver each customer message once.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

// Scheduler puts a follow-up task on the queue (the auto-cancel after a
// hold). A task whose id is already queued is not an error.
type Scheduler interface {
	Schedule(ctx context.Context, task *asynq.Task) error
}

// SchedulerFunc adapts a function to Scheduler.
type SchedulerFunc func(ctx context.Context, task *asynq.Task) error

// Schedule calls f.
func (f SchedulerFunc) Schedule(ctx context.Context, task *asynq.Task) error { return f(ctx, task) }

// SeenMarker remembers that an event was applied, so later copies are
// dropped at the door.
type SeenMarker interface {
	MarkSeen(ctx context.Context, id string) error
}

// Receipts keeps a provider's receipt for a message until the database has
// recorded it: an attempt that finds one records it and sends nothing.
type Receipts interface {
	KeepReceipt(ctx context.Context, notificationID int64, providerID string) error
	Receipt(ctx context.Context, notificationID int64) (providerID string, ok bool, err error)
}

// Deps are what the workers need.
type Deps struct {
	Store     bookings.Store
	Mailer    notifications.Mailer
	Texter    notifications.Texter
	Scheduler Scheduler
	Seen      SeenMarker // may be nil
	Receipts  Receipts   // may be nil: a receipt then lives only in memory
	Metrics   *metrics.Metrics
	Log       *slog.Logger
	Now       func() time.Time

	PaymentHold time.Duration
	// ClaimLease is how long a message claimed by an attempt that has not
	// finished is left alone (on the database's clock); 0: a minute.
	ClaimLease time.Duration
	// StatusCallbackURL is the sms-status URL given to Twilio with each SMS;
	// "" sends none.
	StatusCallbackURL string
	// SupportEmail receives support alerts; "" only logs them.
	SupportEmail string
	// Templates render the messages; nil: the embedded defaults.
	Templates *notifications.Templates
}

// worker carries the Deps into the handlers.
type worker struct {
	Deps
	types map[string]bool // the task types NewMux registered
}

// NewMux registers a handler for every task type the gateway queues.
func NewMux(d Deps) *asynq.ServeMux {
	w := &worker{Deps: d, types: map[string]bool{}}
	mux := asynq.NewServeMux()
	mux.Use(w.observe)
	for typ, h := range map[string]asynq.HandlerFunc{
		tasks.TypePaymentSucceeded: w.paymentSucceeded,
		tasks.TypePaymentFailed:    w.paymentFailed,
		tasks.TypeChargeRefunded:   w.chargeRefunded,
		tasks.TypeSMSStatus:        w.smsStatus,
		tasks.TypeAutoCancel:       w.autoCancel,
		tasks.TypeNotify:           w.notify,
	} {
		mux.HandleFunc(typ, h)
		w.types[typ] = true
	}
	return mux
}

// observe logs and counts every task run.
func (w *worker) observe(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		start := time.Now()
		id, _ := asynq.GetTaskID(ctx)
		retry, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		err := next.ProcessTask(ctx, t)
		typ := w.typeLabel(t)
		w.Metrics.TaskSeconds.WithLabelValues(typ).Observe(time.Since(start).Seconds())
		log := w.Log.With("task_id", id, "task_type", t.Type(), "attempt", retry+1)
		switch {
		case err == nil:
			w.Metrics.Tasks.WithLabelValues(typ, "processed").Inc()
			log.Debug("task done", "took", time.Since(start))
		case errors.Is(err, asynq.SkipRetry) || retry >= maxRetry:
			w.Metrics.Tasks.WithLabelValues(typ, "failed").Inc()
			w.Metrics.Tasks.WithLabelValues(typ, "archived").Inc()
			log.Warn("task archived", "err", err)
		default:
			w.Metrics.Tasks.WithLabelValues(typ, "failed").Inc()
			w.Metrics.Tasks.WithLabelValues(typ, "retried").Inc()
			log.Warn("task failed, will retry", "err", err)
		}
		return err
	})
}

// decode unmarshals a task payload; an undecodable payload is never retried.
func decode(t *asynq.Task, v any) error {
	if err := json.Unmarshal(t.Payload(), v); err != nil {
		return fmt.Errorf("decode %s payload: %w: %w", t.Type(), err, asynq.SkipRetry)
	}
	return nil
}

// finish turns the outcome of Store.Apply into the task's result: an event
// applied before is fine; no booking ends the task without retry.
func (w *worker) finish(err error, log *slog.Logger) error {
	switch {
	case err == nil, errors.Is(err, bookings.ErrAlreadyApplied):
		return nil
	case errors.Is(err, bookings.ErrNotFound):
		log.Warn("no booking found for event; not retrying")
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

// markSeen remembers an applied event; failing to is harmless (the
// database refuses a second application anyway).
func (w *worker) markSeen(ctx context.Context, id string) {
	if w.Seen == nil {
		return
	}
	if err := w.Seen.MarkSeen(ctx, id); err != nil {
		w.Log.Warn("could not mark event seen", "task_id", id, "err", err)
	}
}

// settle ends a task after its database transaction: the outcome decides
// whether it goes on (finish), then the follow-ups run (scheduling), then
// each of the event's unsent messages gets its own notify:send task
// (enqueue) and the event is remembered at the door (markSeen, when seenID
// is set). Every step runs on every attempt, so a retry repairs whichever
// one failed before; a message that cannot be sent retries in its own task.
func (w *worker) settle(ctx context.Context, applyErr error, prefix, seenID string, log *slog.Logger, then ...func(context.Context) error) error {
	if err := w.finish(applyErr, log); err != nil {
		return err
	}
	for _, f := range then {
		if err := f(ctx); err != nil {
			return err
		}
	}
	if err := w.enqueue(ctx, prefix); err != nil {
		return err
	}
	if seenID != "" {
		w.markSeen(ctx, seenID)
	}
	return nil
}
