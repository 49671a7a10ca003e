package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/sqlite/sqlitetest"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/notifications/twiliotest"
	"github.com/reserveeasy/gateway/reconcile"
	"github.com/reserveeasy/gateway/reconcile/stripetest"
	"github.com/reserveeasy/gateway/tasks"
)

const (
	stripeKey = "rk_test_reconcile"
	twSID     = "AC0123456789abcdef0123456789abcdef"
	twToken   = "0123456789abcdef0123456789abcdef"
)

// memQueue is an Asynq queue in memory: a task id is refused while its
// task is held (queued or kept after completion), like Asynq's.
type memQueue struct {
	mu      sync.Mutex
	held    map[string]bool
	pending []*asynq.Task
}

func (q *memQueue) Enqueue(_ context.Context, id string, task *asynq.Task, _ ...string) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.held[id] {
		return true, nil
	}
	q.held[id] = true
	q.pending = append(q.pending, task)
	return false, nil
}

// forget drops every held id: the completed tasks' retention ended.
func (q *memQueue) forget() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.held = map[string]bool{}
}

func (q *memQueue) take() []*asynq.Task {
	q.mu.Lock()
	defer q.mu.Unlock()
	ts := q.pending
	q.pending = nil
	return ts
}

// fixture is a store, an in-memory queue, the workers' handlers, a fake
// Stripe and a fake Twilio, and a Reconciler over them.
type fixture struct {
	t      *testing.T
	store  bookings.Store
	queue  *memQueue
	mux    *asynq.ServeMux
	stripe *stripetest.Server
	twilio *twiliotest.Server
	rec    *reconcile.Reconciler
	m      *metrics.Metrics
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, store: sqlitetest.Open(t), queue: &memQueue{held: map[string]bool{}},
		stripe: stripetest.Start(t, stripeKey), twilio: twiliotest.Start(t, twiliotest.Config{AccountSID: twSID, AuthToken: twToken}),
		m: metrics.New()}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f.mux = jobs.NewMux(jobs.Deps{
		Store: f.store, Mailer: notifications.NewLogMailer(log), Texter: notifications.NewLogTexter(log),
		// Auto-cancels scheduled by payment failures are not due in these
		// tests: they are dropped.
		Scheduler: jobs.SchedulerFunc(func(context.Context, *asynq.Task) error { return nil }),
		Metrics:   metrics.New(), Log: log, Now: time.Now, PaymentHold: 2 * time.Hour,
	})
	tx, err := notifications.NewTwilioTexter(twSID, twToken, "+15557122661", f.twilio.URL())
	if err != nil {
		t.Fatal(err)
	}
	f.rec = reconcile.New(reconcile.Config{Store: f.store, Queue: f.queue,
		Stripe: reconcile.NewStripeEvents(stripeKey, f.stripe.URL()), Twilio: tx, Metrics: f.m, Log: log})
	return f
}

// run reconciles with o and returns the reports by source.
func (f *fixture) run(o reconcile.Options) map[string]reconcile.Report {
	f.t.Helper()
	out := map[string]reconcile.Report{}
	for _, r := range f.rec.Run(f.t.Context(), o) {
		out[r.Source] = r
	}
	return out
}

// work runs every queued task, as a worker would.
func (f *fixture) work() {
	f.t.Helper()
	for _, task := range f.queue.take() {
		f.process(task)
	}
}

// process runs one task; "no booking" ends a task without retry and is
// fine here.
func (f *fixture) process(task *asynq.Task) {
	f.t.Helper()
	if err := f.mux.ProcessTask(f.t.Context(), task); err != nil {
		f.t.Fatalf("task %s: %v", task.Type(), err)
	}
}

func (f *fixture) booking(b bookings.Booking) bookings.Booking {
	f.t.Helper()
	b.CustomerName, b.CustomerEmail = "Ada Lovelace", "ada@example.com"
	if b.CustomerPhone == "" {
		b.CustomerPhone = "+15550001111"
	}
	if b.DepositAmount == 0 {
		b.DepositAmount = 6000
	}
	got, err := f.store.CreateBooking(f.t.Context(), b)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

func (f *fixture) get(id int64) bookings.Booking {
	f.t.Helper()
	b, err := f.store.Booking(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// templates counts a booking's notifications by template.
func (f *fixture) templates(id int64) map[string]int {
	f.t.Helper()
	ns, err := f.store.Notifications(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]int{}
	for _, n := range ns {
		out[n.Template]++
	}
	return out
}

func (f *fixture) transactions(id int64) int {
	f.t.Helper()
	ts, err := f.store.Transactions(f.t.Context(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return len(ts)
}

// paymentEvent is a Stripe event about booking id's PaymentIntent.
func paymentEvent(evID, typ string, bookingID int64, created time.Time) stripetest.Event {
	pi := fmt.Sprintf("pi_%d", bookingID)
	obj := map[string]any{"id": pi, "object": "payment_intent", "amount": 6000, "amount_received": 6000,
		"currency": "usd", "metadata": map[string]any{"booking_id": fmt.Sprint(bookingID)}}
	if typ == "payment_intent.payment_failed" {
		obj["amount_received"] = 0
		obj["last_payment_error"] = map[string]any{"message": "Your card was declined."}
	}
	return stripetest.Event{ID: evID, Type: typ, Created: created.Unix(), Object: obj}
}

// webhookTask is the task the receiver queues for ev.
func webhookTask(t *testing.T, ev stripetest.Event) (*asynq.Task, string) {
	t.Helper()
	typ, _ := tasks.StripeTaskType(ev.Type)
	obj, _ := tasks.DecodeStripeObject(mustJSON(t, ev.Object))
	task, id, err := tasks.NewStripeTask(typ, tasks.StripeEvent{EventID: ev.ID, Type: ev.Type, Created: ev.Created,
		ReceivedAt: time.Now().UTC(), Object: obj, Raw: mustJSON(t, ev.Object)})
	if err != nil {
		t.Fatal(err)
	}
	return task, id
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
