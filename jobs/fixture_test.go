package jobs_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/postgres/postgrestest"
	"github.com/reserveeasy/gateway/bookings/sqlite/sqlitetest"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

// stores runs test against PostgreSQL and SQLite.
func stores(t *testing.T, test func(t *testing.T, s bookings.Store)) {
	t.Run("postgres", func(t *testing.T) { test(t, postgrestest.Open(t)) })
	t.Run("sqlite", func(t *testing.T) { test(t, sqlitetest.Open(t)) })
}

// outbox records what would have been sent; fail makes the next sends fail.
type outbox struct {
	mu     sync.Mutex
	emails []notifications.Email
	sms    []notifications.SMS
	fail   error
	n      int
}

func (o *outbox) SendEmail(_ context.Context, m notifications.Email) (notifications.Receipt, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return notifications.Receipt{}, o.fail
	}
	o.n++
	o.emails = append(o.emails, m)
	return notifications.Receipt{ProviderID: fmt.Sprintf("<%d@test>", o.n)}, nil
}

func (o *outbox) SendSMS(_ context.Context, m notifications.SMS) (notifications.Receipt, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail != nil {
		return notifications.Receipt{}, o.fail
	}
	o.n++
	o.sms = append(o.sms, m)
	return notifications.Receipt{ProviderID: fmt.Sprintf("SM%032d", o.n)}, nil
}

func (o *outbox) emailsTo(to string) []notifications.Email {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []notifications.Email
	for _, e := range o.emails {
		if e.To == to {
			out = append(out, e)
		}
	}
	return out
}

// schedule records scheduled tasks by id, like Asynq's task id guard.
// notify:send tasks wait in notify until the fixture runs them.
type schedule struct {
	mu     sync.Mutex
	tasks  map[string]*asynq.Task
	order  []string
	notify []*asynq.Task
	queued map[int64]bool // notifications with a notify task waiting
}

func (s *schedule) Schedule(_ context.Context, t *asynq.Task) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.Type() == tasks.TypeNotify {
		var n tasks.Notify
		if err := json.Unmarshal(t.Payload(), &n); err != nil {
			return err
		}
		if !s.queued[n.NotificationID] {
			s.queued[n.NotificationID] = true
			s.notify = append(s.notify, t)
		}
		return nil
	}
	var a tasks.AutoCancel
	_ = json.Unmarshal(t.Payload(), &a)
	id := fmt.Sprintf("hold:%d:%d", a.BookingID, a.HoldExpiresAt.Unix())
	if _, ok := s.tasks[id]; ok {
		return nil
	}
	s.tasks[id] = t
	s.order = append(s.order, id)
	return nil
}

// fixture is a worker on a real store with recording providers and a clock
// the test moves.
type fixture struct {
	t     *testing.T
	store bookings.Store
	out   *outbox
	sched *schedule
	mux   *asynq.ServeMux
	logs  *bytes.Buffer
	mu    sync.Mutex
	now   time.Time
}

const (
	support  = "support@reserveeasy.test"
	callback = "https://api.reserveeasy.test/api/v1/webhooks/twilio/sms-status"
	hold     = 2 * time.Hour
)

func newFixture(t *testing.T, s bookings.Store, opts ...func(*jobs.Deps)) *fixture {
	f := &fixture{t: t, store: s, out: &outbox{}, sched: &schedule{tasks: map[string]*asynq.Task{}, queued: map[int64]bool{}},
		logs: &bytes.Buffer{}, now: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)}
	d := jobs.Deps{
		Store: s, Mailer: f.out, Texter: f.out, Scheduler: f.sched,
		Metrics: metrics.New(), Log: slog.New(slog.NewTextHandler(&lockedWriter{w: f.logs}, nil)),
		Now: f.clock, PaymentHold: hold, StatusCallbackURL: callback, SupportEmail: support,
	}
	for _, o := range opts {
		o(&d)
	}
	f.mux = jobs.NewMux(d)
	return f
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
}

func (f *fixture) booking(status bookings.Status) bookings.Booking {
	f.t.Helper()
	b, err := f.store.CreateBooking(context.Background(), bookings.Booking{
		CustomerName: "Ada Lovelace", CustomerPhone: "+15559876543", CustomerEmail: "ada@example.com",
		Status: status, DepositAmount: 6000, DepositCurrency: "usd",
	})
	if err != nil {
		f.t.Fatalf("create booking: %v", err)
	}
	return b
}

func (f *fixture) get(id int64) bookings.Booking {
	f.t.Helper()
	b, err := f.store.Booking(context.Background(), id)
	if err != nil {
		f.t.Fatalf("read booking %d: %v", id, err)
	}
	return b
}

// run processes one task as Asynq would, then the notify:send tasks it
// queued, and returns the errors of all.
func (f *fixture) run(typ string, payload any) error {
	f.t.Helper()
	return errors.Join(f.runEvent(typ, payload), f.sendQueued())
}

// runEvent processes one task as Asynq would, leaving the messages it
// queued in f.sched.
func (f *fixture) runEvent(typ string, payload any) error {
	f.t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		f.t.Fatal(err)
	}
	return f.mux.ProcessTask(context.Background(), asynq.NewTask(typ, b))
}

// sendQueued runs every queued notify:send task once; a failed one is
// dropped (the event's next run queues its message again).
func (f *fixture) sendQueued() error {
	f.sched.mu.Lock()
	ts := f.sched.notify
	f.sched.notify, f.sched.queued = nil, map[int64]bool{}
	f.sched.mu.Unlock()
	var errs []error
	for _, t := range ts {
		errs = append(errs, f.mux.ProcessTask(context.Background(), t))
	}
	return errors.Join(errs...)
}

func (f *fixture) mustRun(typ string, payload any) {
	f.t.Helper()
	if err := f.run(typ, payload); err != nil {
		f.t.Fatalf("%s: %v", typ, err)
	}
}

func stripeEvent(id, typ string, obj tasks.StripeObject) tasks.StripeEvent {
	return tasks.StripeEvent{EventID: id, Type: typ, Created: 1700000000, ReceivedAt: time.Now().UTC(), Object: obj, Raw: json.RawMessage(`{}`)}
}

func intent(bookingID int64, id string) tasks.StripeObject {
	return tasks.StripeObject{ID: id, Object: "payment_intent", Amount: 6000, AmountReceived: 6000, Currency: "usd",
		Metadata: map[string]string{"booking_id": fmt.Sprint(bookingID)}}
}

func charge(bookingID int64, pi string, refunded int64) tasks.StripeObject {
	md := map[string]string{}
	if bookingID > 0 {
		md["booking_id"] = fmt.Sprint(bookingID)
	}
	return tasks.StripeObject{ID: "ch_" + pi, Object: "charge", Amount: 6000, AmountRefunded: refunded, Currency: "usd",
		PaymentIntent: pi, Metadata: md}
}

func smsStatus(sid, status, to string) tasks.SMSStatus {
	return tasks.SMSStatus{MessageSID: sid, MessageStatus: status, To: to, ReceivedAt: time.Now().UTC()}
}

func (f *fixture) transactions(id int64) []bookings.Transaction {
	f.t.Helper()
	ts, err := f.store.Transactions(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return ts
}

func (f *fixture) notifications(id int64) []bookings.Notification {
	f.t.Helper()
	ns, err := f.store.Notifications(context.Background(), id)
	if err != nil {
		f.t.Fatal(err)
	}
	return ns
}

var errTemporary = errors.New("421 try again later")
