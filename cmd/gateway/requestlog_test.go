package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/tasks"
)

// logFixture is a request log with one request of each outcome, for a
// booking with an applied payment, an archived event and a queued one.
type logFixture struct {
	env       map[string]string
	bookingID string
}

func newLogFixture(t *testing.T) logFixture {
	t.Helper()
	ctx := t.Context()
	redisURL := redistest.URL(t, redistest.DBCommand)
	env := map[string]string{"REDIS_URL": redisURL, "DATABASE_URL": sqliteURL(t)}
	out, err := tool(env, "bookings", "create", "--name", "Ada Lovelace", "--phone", "+15551230001", "--email", "ada@example.com", "--deposit", "6000", "--currency", "usd")
	m := regexp.MustCompile(`booking (\d+) created`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("bookings create: %v\n%s", err, out)
	}
	var id int64
	for _, c := range m[1] {
		id = id*10 + int64(c-'0')
	}
	// The payment applied, as a worker would have.
	s, err := openStore(ctx, env["DATABASE_URL"], false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Apply(ctx, bookings.Event{Source: "stripe", ID: "evt_log_applied", Type: "payment_intent.succeeded"},
		func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
			b, err := tx.BookingForUpdate(ctx, id)
			if err != nil {
				return bookings.Result{}, err
			}
			b.Status, b.DepositPaid, b.DepositPaidAt = bookings.StatusConfirmed, true, time.Now()
			if err := tx.UpdateBooking(ctx, b, time.Now()); err != nil {
				return bookings.Result{}, err
			}
			_, err = tx.AddNotification(ctx, bookings.Notification{BookingID: id, Channel: bookings.ChannelSMS,
				Template: "booking_confirmation_sms", Recipient: "+15551230001", Key: "stripe:evt_log_applied:sms", Body: "hi"})
			return bookings.Result{BookingID: id, Outcome: "paid"}, err
		})
	if err != nil {
		t.Fatal(err)
	}
	// One task archived with its error, one waiting in the queue.
	r, err := queue.Open(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cl := asynq.NewClient(r.ConnOpt)
	defer cl.Close()
	in := asynq.NewInspector(r.ConnOpt)
	defer in.Close()
	for _, taskID := range []string{"stripe:evt_log_archived", "stripe:evt_log_queued"} {
		if _, err := cl.Enqueue(asynq.NewTask("stripe:payment_succeeded", []byte("{}")), asynq.TaskID(taskID), asynq.Queue(tasks.QueueWebhooks)); err != nil {
			t.Fatal(err)
		}
	}
	if err := in.ArchiveTask(tasks.QueueWebhooks, "stripe:evt_log_archived"); err != nil {
		t.Fatal(err)
	}
	log := queue.NewRequestLog(r)
	old := time.Now().Add(-3 * time.Hour)
	now := time.Now()
	for _, q := range []tasks.Request{
		{At: old, Provider: "stripe", Outcome: "too_large", Status: 413, Reason: "body too large"},
		{At: now, Provider: "stripe", Outcome: "accepted", Status: 200, EventID: "evt_log_applied", Type: "payment_intent.succeeded", BookingID: id, TaskID: "stripe:evt_log_applied"},
		{At: now, Provider: "stripe", Outcome: "duplicate", Status: 200, EventID: "evt_log_applied", Type: "payment_intent.succeeded", BookingID: id, TaskID: "stripe:evt_log_applied"},
		{At: now, Provider: "stripe", Outcome: "accepted", Status: 200, EventID: "evt_log_archived", Type: "payment_intent.payment_failed", BookingID: id, TaskID: "stripe:evt_log_archived"},
		{At: now, Provider: "stripe", Outcome: "accepted", Status: 200, EventID: "evt_log_queued", Type: "charge.refunded", BookingID: id, TaskID: "stripe:evt_log_queued"},
		{At: now, Provider: "stripe", Outcome: "ignored", Status: 200, EventID: "evt_log_ignored", Type: "customer.created", Reason: "unhandled event type"},
		{At: now, Provider: "stripe", Outcome: "invalid_signature", Status: 400, Reason: "invalid signature"},
		{At: now, Provider: "twilio", Outcome: "bad_request", Status: 400, Reason: "missing MessageSid"},
		{At: now, Provider: "twilio", Outcome: "unavailable", Status: 503, EventID: "SMlog1:delivered", MessageSID: "SMlog1", Type: "delivered", Reason: "queue unavailable"},
		{At: now, Provider: "stripe", Outcome: "ignored", Status: 200, EventID: "evt_log_<script>", Type: "customer.created", Reason: "\x1b[31mred <b>bold</b>"},
	} {
		if err := log.Add(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	return logFixture{env: env, bookingID: m[1]}
}

// TestEventsShowsTheRequestLog: every outcome is listed, accepted and
// duplicate requests with how their event ended; filters narrow.
func TestEventsShowsTheRequestLog(t *testing.T) {
	f := newLogFixture(t)
	out, err := tool(f.env, "events")
	if err != nil {
		t.Fatalf("events: %v\n%s", err, out)
	}
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`stripe +accepted +200 +payment_intent.succeeded +evt_log_applied +` + f.bookingID + ` +applied \(paid\)`),
		regexp.MustCompile(`stripe +duplicate +200 +payment_intent.succeeded +evt_log_applied +` + f.bookingID + ` +applied \(paid\)`),
		regexp.MustCompile(`stripe +accepted +200 +payment_intent.payment_failed +evt_log_archived +` + f.bookingID + ` +archived`),
		regexp.MustCompile(`stripe +accepted +200 +charge.refunded +evt_log_queued +` + f.bookingID + ` +queued`),
		regexp.MustCompile(`stripe +ignored +200 +customer.created +evt_log_ignored +- +- +unhandled event type`),
		regexp.MustCompile(`stripe +invalid_signature +400 +- +- +- +- +invalid signature`),
		regexp.MustCompile(`twilio +bad_request +400 .* missing MessageSid`),
		regexp.MustCompile(`twilio +unavailable +503 +delivered +SMlog1:delivered .* queue unavailable`),
		regexp.MustCompile(`stripe +too_large +413 .* body too large`),
	} {
		if !want.MatchString(out) {
			t.Errorf("events lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("events printed a terminal escape from a request:\n%q", out)
	}
	for _, tt := range []struct {
		args       []string
		rows       int
		mustInclud string
	}{
		{[]string{"--outcome", "invalid_signature"}, 1, "invalid_signature"},
		{[]string{"--provider", "twilio"}, 2, "twilio"},
		{[]string{"--type", "customer.created"}, 2, "customer.created"},
		{[]string{"--type", "sms.delivered"}, 1, "SMlog1"},
		{[]string{"--booking", f.bookingID}, 4, "evt_log_"},
		{[]string{"--since", "1h"}, 9, "accepted"},
		{[]string{"--limit", "2"}, 2, "ignored"},
	} {
		out, err := tool(f.env, append([]string{"events"}, tt.args...)...)
		if err != nil {
			t.Fatalf("events %v: %v\n%s", tt.args, err, out)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines)-1 != tt.rows || !strings.Contains(out, tt.mustInclud) {
			t.Errorf("events %v: %d rows, want %d with %q:\n%s", tt.args, len(lines)-1, tt.rows, tt.mustInclud, out)
		}
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--outcome", "accpeted"}, `--outcome "accpeted": want one of`},
		{[]string{"--provider", "paypal"}, `--provider "paypal": want stripe or twilio`},
		{[]string{"--since", "yesterday"}, `--since "yesterday"`},
		{[]string{"--booking", "-1"}, "--booking -1"},
	} {
		if out, err := tool(f.env, append([]string{"events"}, tt.args...)...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("events %v: err = %v, want %q\n%s", tt.args, err, tt.want, out)
		}
	}
}

// TestInspectFindsRequestsAndBookings: inspect of an ignored event finds its
// request; --booking tells the story in order; unknown booking exits 1.
func TestInspectFindsRequestsAndBookings(t *testing.T) {
	f := newLogFixture(t)
	out, err := tool(f.env, "inspect", "evt_log_ignored")
	if err != nil || !strings.Contains(out, "request:   ") || !strings.Contains(out, "ignored 200, customer.created, unhandled event type") {
		t.Errorf("inspect evt_log_ignored: %v\n%s", err, out)
	}
	out, err = tool(f.env, "inspect", "--booking", f.bookingID)
	if err != nil {
		t.Fatalf("inspect --booking: %v\n%s", err, out)
	}
	order := []string{"created", "booking created, deposit $60.00",
		"event", "stripe payment_intent.succeeded evt_log_applied: applied (paid)",
		"transition", "deposit paid",
		"message", "sms booking_confirmation_sms to +1******0001: pending",
		"request", "evt_log_archived: accepted 200, event archived",
	}
	rest := out
	for _, want := range order {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("inspect --booking lacks %q after the lines before it:\n%s", want, out)
		}
		rest = rest[i+len(want):]
	}
	for _, leak := range []string{"Ada", "ada@example.com", "+15551230001"} {
		if strings.Contains(out, leak) {
			t.Errorf("inspect --booking shows %q unmasked:\n%s", leak, out)
		}
	}
	if out, err := tool(f.env, "inspect", "--booking", "99999"); err == nil || !strings.Contains(err.Error(), "no booking 99999") {
		t.Errorf("inspect --booking 99999: err = %v, want no booking\n%s", err, out)
	}
}
