package reconcile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/event"

	"github.com/reserveeasy/gateway/tasks"
)

// stripeOverlap is how far before a run's start the next run lists again:
// an event may become listable a little after its created time, and
// clocks differ. Events listed twice are found in webhook_events (or
// queued) and not applied again.
const stripeOverlap = 5 * time.Minute

// stripePageSize is the events list's page size (Stripe's maximum): one
// API call per 100 events.
const stripePageSize = 100

// stripeTimeout bounds one Stripe API call.
const stripeTimeout = 30 * time.Second

// StripeEvents lists Stripe events with stripe-go's events client.
type StripeEvents struct {
	client event.Client
}

// NewStripeEvents returns a lister using the API key key (a restricted key
// with Events: read is enough) against baseURL ("" for Stripe's API).
func NewStripeEvents(key, baseURL string) *StripeEvents {
	cfg := &stripe.BackendConfig{
		HTTPClient:        &http.Client{Timeout: stripeTimeout},
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull},
		MaxNetworkRetries: stripe.Int64(1),
	}
	if baseURL != "" {
		cfg.URL = stripe.String(baseURL)
	}
	return &StripeEvents{client: event.Client{B: stripe.GetBackendWithConfig(stripe.APIBackend, cfg), Key: key}}
}

// list calls fn for every event of types created at or after since,
// newest first, following the pages to the end.
func (s *StripeEvents) list(ctx context.Context, since time.Time, types []string, fn func(*stripe.Event)) error {
	p := &stripe.EventListParams{CreatedRange: &stripe.RangeQueryParams{GreaterThanOrEqual: since.Unix()}}
	p.Context = ctx
	p.Limit = stripe.Int64(stripePageSize)
	for _, t := range types {
		p.Types = append(p.Types, stripe.String(t))
	}
	it := s.client.List(p)
	for it.Next() {
		fn(it.Event())
	}
	if err := it.Err(); err != nil {
		return fmt.Errorf("list stripe events: %w", err)
	}
	return nil
}

// stripe lists the handled event types since the reconciled point and
// queues the task of every event not in webhook_events, as the receiver
// would have. The point then moves to the run's start (less
// stripeOverlap), or only up to the oldest event that could not be
// queued, so a failure is retried next time; a dry run or a failed listing
// leaves it.
func (r *Reconciler) stripe(ctx context.Context, o Options) Report {
	rep := Report{Source: SourceStripe}
	if r.c.Stripe == nil {
		rep.Skipped = r.c.StripeOff
		return rep
	}
	start := r.c.Now()
	point, err := r.c.Store.ReconcilePoint(ctx, SourceStripe)
	if err != nil {
		rep.Err = err
		return rep
	}
	if point.IsZero() {
		point = start.Add(-o.Since)
	}
	var errs []error
	var oldestFailed int64
	failed := func(ev *stripe.Event, err error) {
		errs = append(errs, err)
		if oldestFailed == 0 || ev.Created < oldestFailed {
			oldestFailed = ev.Created
		}
	}
	listErr := r.c.Stripe.list(ctx, point, tasks.StripeEventTypes(), func(ev *stripe.Event) {
		r.checked(&rep)
		if err := r.stripeEvent(ctx, &rep, o, ev); err != nil {
			failed(ev, err)
		}
	})
	if listErr != nil {
		errs = append(errs, listErr)
	}
	rep.Err = errors.Join(errs...)
	if o.DryRun || listErr != nil {
		return rep
	}
	next := start.Add(-stripeOverlap)
	if oldestFailed != 0 {
		next = time.Unix(oldestFailed, 0)
	}
	if next.After(point) {
		if err := r.c.Store.SetReconcilePoint(ctx, SourceStripe, next); err != nil {
			rep.Err = errors.Join(rep.Err, err)
		}
	}
	return rep
}

// stripeEvent queues one listed event unless it was applied, was queued
// already or belongs to the other mode (STRIPE_LIVEMODE).
func (r *Reconciler) stripeEvent(ctx context.Context, rep *Report, o Options, ev *stripe.Event) error {
	log := r.c.Log.With("component", "reconcile", "source", SourceStripe, "event_id", ev.ID, "event_type", string(ev.Type))
	if m := r.c.Livemode; m != nil && ev.Livemode != *m {
		return nil // the receiver ignores it too
	}
	done, err := r.applied(ctx, SourceStripe, ev.ID)
	if err != nil {
		r.failedItem(rep)
		return err
	}
	if done {
		return nil
	}
	taskType, ok := tasks.StripeTaskType(string(ev.Type))
	if !ok || ev.Data == nil {
		return nil // listed by type, so never; but never guess
	}
	obj, err := tasks.DecodeStripeObject(ev.Data.Raw)
	if err != nil {
		r.failedItem(rep)
		return fmt.Errorf("stripe event %s: %w", ev.ID, err)
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		r.failedItem(rep)
		return fmt.Errorf("encode stripe event %s: %w", ev.ID, err)
	}
	task, id, err := tasks.NewStripeTask(taskType, tasks.StripeEvent{
		EventID: ev.ID, Type: string(ev.Type), APIVersion: ev.APIVersion, Created: ev.Created,
		ReceivedAt: r.c.Now().UTC(), Object: obj, Raw: raw,
	})
	if err != nil {
		r.failedItem(rep)
		return err
	}
	return r.missing(ctx, rep, o.DryRun, id, task, log)
}
