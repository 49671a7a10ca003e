package reconcile_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/notifications/twiliotest"
	"github.com/reserveeasy/gateway/reconcile"
	"github.com/reserveeasy/gateway/reconcile/stripetest"
	"github.com/reserveeasy/gateway/tasks"
)

// counts is what a report says, without its error.
type counts struct{ LookedAt, Missing, Applied, AlreadyQueued, Errors int }

func countsOf(r reconcile.Report) counts {
	return counts{r.LookedAt, r.Missing, r.Applied, r.AlreadyQueued, r.Errors}
}

// TestStripeMissingEventsApplyOnce: of two payments, the one whose webhook
// was lost is applied through the same task; the other, already applied,
// is not; a webhook arriving after its event was reconciled changes
// nothing; and a second run applies nothing.
func TestStripeMissingEventsApplyOnce(t *testing.T) {
	f := newFixture(t)
	lost := f.booking(bookings.Booking{Status: bookings.StatusPaymentPending})
	got := f.booking(bookings.Booking{Status: bookings.StatusPaymentPending})
	now := time.Now()
	evLost := paymentEvent("evt_lost", "payment_intent.succeeded", lost.ID, now.Add(-time.Hour))
	evGot := paymentEvent("evt_got", "payment_intent.succeeded", got.ID, now.Add(-50*time.Minute))
	f.stripe.Add(evLost, evGot)
	// evt_got's webhook arrived and was applied.
	task, _ := webhookTask(t, evGot)
	f.process(task)

	reps := f.run(reconcile.Options{})
	if diff := cmp.Diff(counts{LookedAt: 2, Missing: 1, Applied: 1}, countsOf(reps["stripe"])); diff != "" || reps["stripe"].Err != nil {
		t.Fatalf("stripe report (-want +got):\n%s err: %v", diff, reps["stripe"].Err)
	}
	f.work()
	for _, id := range []int64{lost.ID, got.ID} {
		b := f.get(id)
		if !b.DepositPaid || b.Status != bookings.StatusConfirmed || f.transactions(id) != 1 {
			t.Errorf("booking %d: paid=%v status=%s transactions=%d; want paid, confirmed, 1 transaction", id, b.DepositPaid, b.Status, f.transactions(id))
		}
	}
	if n := f.templates(lost.ID)[notifications.TemplateConfirmationSMS]; n != 1 {
		t.Errorf("reconciled payment wrote %d confirmation SMS, want 1", n)
	}

	// The lost webhook turns up after all: its task id is taken, and even
	// once the task is forgotten in Redis, webhook_events refuses it.
	late, id := webhookTask(t, evLost)
	if dup, _ := f.queue.Enqueue(t.Context(), id, late); !dup {
		t.Error("the late webhook's task was queued again beside its reconciled twin")
	}
	f.queue.forget()
	f.process(late)
	if n := f.transactions(lost.ID); n != 1 {
		t.Errorf("after the late webhook: %d transactions, want 1", n)
	}
	if n := f.templates(lost.ID)[notifications.TemplateConfirmationSMS]; n != 1 {
		t.Errorf("after the late webhook: %d confirmation SMS, want 1", n)
	}

	again := f.run(reconcile.Options{})
	if c := countsOf(again["stripe"]); c.Missing != 0 || c.Applied != 0 {
		t.Errorf("second run: %+v, want nothing missing or applied", c)
	}
	if v := testutil.ToFloat64(f.m.Reconciled.WithLabelValues("stripe", "applied")); v != 1 {
		t.Errorf("gateway_reconciled_total{source=stripe,outcome=applied} = %v, want 1", v)
	}
}

// TestStripeDryRun: a dry run finds the missing event and queues nothing,
// and does not move the reconciled point: the next real run applies it.
func TestStripeDryRun(t *testing.T) {
	f := newFixture(t)
	b := f.booking(bookings.Booking{Status: bookings.StatusPaymentPending})
	f.stripe.Add(paymentEvent("evt_dry", "payment_intent.succeeded", b.ID, time.Now().Add(-time.Hour)))
	reps := f.run(reconcile.Options{DryRun: true})
	if diff := cmp.Diff(counts{LookedAt: 1, Missing: 1}, countsOf(reps["stripe"])); diff != "" {
		t.Errorf("dry run report (-want +got):\n%s", diff)
	}
	f.work()
	if got := f.get(b.ID); got.DepositPaid {
		t.Error("dry run applied the payment")
	}
	if p, _ := f.store.ReconcilePoint(t.Context(), "stripe"); !p.IsZero() {
		t.Errorf("dry run moved the reconciled point to %v", p)
	}
	if c := countsOf(f.run(reconcile.Options{})["stripe"]); c.Applied != 1 {
		t.Errorf("real run after the dry run: %+v, want 1 applied", c)
	}
}

// TestStripeListing: stripe-go pages through the whole list (one call per
// 100 events), asks only for the handled types and only since the
// reconciled point, with the API key; the next run starts at the point.
func TestStripeListing(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	for i := range 250 {
		f.stripe.Add(paymentEvent("evt_"+strings.Repeat("0", 4-len(itoa(i)))+itoa(i), "payment_intent.payment_failed", 999999, now.Add(-time.Duration(i)*time.Second)))
	}
	f.stripe.Add(stripetest.Event{ID: "evt_other_type", Type: "customer.created", Created: now.Unix(), Object: map[string]any{"id": "cus_1"}},
		paymentEvent("evt_too_old", "payment_intent.succeeded", 999999, now.Add(-100*time.Hour)))
	reps := f.run(reconcile.Options{DryRun: true})
	if c := countsOf(reps["stripe"]); c.LookedAt != 250 || c.Missing != 250 {
		t.Errorf("report %+v, want 250 looked at and missing (not the other type, not the old one)", c)
	}
	reqs := f.stripe.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 pages of 100", len(reqs))
	}
	for i, r := range reqs {
		if r.Status != http.StatusOK || r.Query.Get("limit") != "100" || r.Query.Get("created[gte]") == "" {
			t.Errorf("request %d: %d %v; want 200, limit 100, created[gte]", i, r.Status, r.Query)
		}
		var types []string
		for k, vs := range r.Query {
			if strings.HasPrefix(k, "types[") {
				types = append(types, vs...)
			}
		}
		if len(types) != len(tasks.StripeEventTypes()) {
			t.Errorf("request %d asks for types %v, want %v", i, types, tasks.StripeEventTypes())
		}
	}
	if reqs[1].Query.Get("starting_after") == "" {
		t.Error("second page not asked with starting_after")
	}
	// A real run moves the point; the next one lists from there.
	f.run(reconcile.Options{})
	p, err := f.store.ReconcilePoint(t.Context(), "stripe")
	if err != nil || p.Before(now.Add(-10*time.Minute)) || p.After(now) {
		t.Fatalf("reconciled point %v, %v; want the run's start less a few minutes", p, err)
	}
	before := len(f.stripe.Requests())
	f.run(reconcile.Options{})
	last := f.stripe.Requests()[before]
	if last.Query.Get("created[gte]") != itoa64(p.Unix()) {
		t.Errorf("next run lists created[gte]=%s, want the point %d", last.Query.Get("created[gte]"), p.Unix())
	}
}

// TestStripeAPIErrorDoesNotStopTheOthers: a Stripe 500 is reported (and the
// point stays), and Twilio and the holds are reconciled all the same; a
// wrong key is reported too.
func TestStripeAPIErrorDoesNotStopTheOthers(t *testing.T) {
	f := newFixture(t)
	b := f.booking(bookings.Booking{Status: bookings.StatusPaymentPending, HoldExpiresAt: time.Now().Add(-5 * time.Minute)})
	f.stripe.Fail(http.StatusInternalServerError)
	reps := f.run(reconcile.Options{})
	if !reps["stripe"].Failed() {
		t.Error("a Stripe 500 is not reported as a failure")
	}
	if reps["twilio"].Failed() || reps["holds"].Failed() || reps["holds"].Applied != 1 {
		t.Errorf("twilio %+v, holds %+v: want both run, the hold applied", reps["twilio"], reps["holds"])
	}
	if p, _ := f.store.ReconcilePoint(t.Context(), "stripe"); !p.IsZero() {
		t.Errorf("failed listing moved the point to %v", p)
	}
	f.work()
	if got := f.get(b.ID); got.Status != bookings.StatusCancelled {
		t.Errorf("hold booking is %s, want cancelled", got.Status)
	}
	f.stripe.Fail(0)
	f.rec = reconcile.New(reconcile.Config{Store: f.store, Queue: f.queue,
		Stripe: reconcile.NewStripeEvents("rk_test_wrong", f.stripe.URL())})
	if rep := f.run(reconcile.Options{})["stripe"]; !rep.Failed() {
		t.Error("a wrong API key is not reported as a failure")
	}
}

// TestHoldCancelledOnce: an expired hold whose auto-cancel was lost is
// cancelled once, with the cancellation email; its scheduled auto-cancel
// firing later changes nothing; a hold not expired for a minute yet, a
// paid booking and a second run are left alone.
func TestHoldCancelledOnce(t *testing.T) {
	f := newFixture(t)
	now := time.Now()
	expired := f.booking(bookings.Booking{Status: bookings.StatusPaymentPending, HoldExpiresAt: now.Add(-3 * time.Minute)})
	fresh := f.booking(bookings.Booking{Status: bookings.StatusPaymentPending, HoldExpiresAt: now.Add(-10 * time.Second)})
	paid := f.booking(bookings.Booking{Status: bookings.StatusPaymentPending, DepositPaid: true, HoldExpiresAt: now.Add(-time.Hour)})
	reps := f.run(reconcile.Options{DryRun: true})
	if diff := cmp.Diff(counts{LookedAt: 1, Missing: 1}, countsOf(reps["holds"])); diff != "" {
		t.Errorf("dry run (-want +got):\n%s", diff)
	}
	f.work()
	if f.get(expired.ID).Status != bookings.StatusPaymentPending {
		t.Fatal("dry run cancelled the booking")
	}
	reps = f.run(reconcile.Options{})
	if diff := cmp.Diff(counts{LookedAt: 1, Missing: 1, Applied: 1}, countsOf(reps["holds"])); diff != "" {
		t.Errorf("holds report (-want +got):\n%s", diff)
	}
	f.work()
	b := f.get(expired.ID)
	if b.Status != bookings.StatusCancelled || b.CancelReason != bookings.CancelReasonPaymentNotReceived || b.CancelledAt.IsZero() {
		t.Errorf("expired hold: %s %q %v; want cancelled, payment_not_received", b.Status, b.CancelReason, b.CancelledAt)
	}
	// The scheduled auto-cancel, not lost after all, fires now.
	task, err := tasks.NewAutoCancelTask(tasks.AutoCancel{BookingID: expired.ID, HoldExpiresAt: expired.HoldExpiresAt})
	if err != nil {
		t.Fatal(err)
	}
	f.process(task)
	if got := f.get(expired.ID); !got.CancelledAt.Equal(b.CancelledAt) || !got.UpdatedAt.Equal(b.UpdatedAt) {
		t.Errorf("the late auto-cancel changed the booking: %+v", got)
	}
	if n := f.templates(expired.ID)[notifications.TemplateCancelled]; n != 1 {
		t.Errorf("%d cancellation emails, want 1 (templates %v)", n, f.templates(expired.ID))
	}
	for _, id := range []int64{fresh.ID, paid.ID} {
		if got := f.get(id); got.Status != bookings.StatusPaymentPending {
			t.Errorf("booking %d is %s, want left payment_pending", id, got.Status)
		}
	}
	if c := countsOf(f.run(reconcile.Options{})["holds"]); c != (counts{}) {
		t.Errorf("second run: %+v, want nothing", c)
	}
}

// TestTwilioStatusApplied: an SMS whose failure callback was lost is
// fetched from Twilio and its status applied, with the fallback email
// once; the real callback arriving later changes nothing; a fresh SMS (in
// its grace period) is not fetched, one Twilio does not know is skipped;
// a second run applies nothing.
func TestTwilioStatusApplied(t *testing.T) {
	f := newFixture(t)
	old := time.Now().Add(-time.Hour)
	m := f.twilio.AddMessage(twiliotest.Message{AccountSID: twSID, To: "+15550001111", From: "+15557122661", Status: "undelivered", ErrorCode: 30003})
	lost := f.booking(bookings.Booking{SMSMessageSID: m.SID, SMSStatus: "queued", UpdatedAt: old, CreatedAt: old})
	mDelivered := f.twilio.AddMessage(twiliotest.Message{AccountSID: twSID, To: "+15550002222", Status: "delivered"})
	fresh := f.booking(bookings.Booking{CustomerPhone: "+15550002222", SMSMessageSID: mDelivered.SID, SMSStatus: "queued"})
	// An SMS Twilio does not know (deleted): skipped, not a failure.
	f.booking(bookings.Booking{CustomerPhone: "+15550003333", SMSMessageSID: "SM00000000000000000000000000000000", SMSStatus: "sent", UpdatedAt: old})

	reps := f.run(reconcile.Options{})
	if diff := cmp.Diff(counts{LookedAt: 2, Missing: 1, Applied: 1}, countsOf(reps["twilio"])); diff != "" || reps["twilio"].Err != nil {
		t.Fatalf("twilio report (-want +got):\n%s err %v", diff, reps["twilio"].Err)
	}
	f.work()
	b := f.get(lost.ID)
	if b.SMSStatus != "undelivered" {
		t.Errorf("sms_status %q, want undelivered", b.SMSStatus)
	}
	if n := f.templates(lost.ID)[notifications.TemplateConfirmationEmail]; n != 1 {
		t.Errorf("%d fallback emails, want 1 (templates %v)", n, f.templates(lost.ID))
	}
	// The real callback comes after all (queued under the same key).
	late, id, err := tasks.NewSMSStatusTask(tasks.SMSStatus{MessageSID: m.SID,
		MessageStatus: "undelivered", ErrorCode: "30003", ReceivedAt: time.Now().UTC()})
	if err != nil {
		t.Fatal(err)
	}
	if dup, _ := f.queue.Enqueue(t.Context(), id, late); !dup {
		t.Error("the late callback's task was queued beside its reconciled twin")
	}
	f.queue.forget()
	f.process(late)
	if n := f.templates(lost.ID)[notifications.TemplateConfirmationEmail]; n != 1 {
		t.Errorf("after the late callback: %d fallback emails, want 1", n)
	}
	if got := f.get(fresh.ID); got.SMSStatus != "queued" {
		t.Errorf("SMS within its grace period moved to %q", got.SMSStatus)
	}
	if c := countsOf(f.run(reconcile.Options{})["twilio"]); c.Missing != 0 || c.Applied != 0 {
		t.Errorf("second run: %+v, want nothing missing", c)
	}
}

// TestTwilioAPIErrorReported: Twilio answering 500 is reported per
// message and stops the source after a few in a row; the others run.
func TestTwilioAPIErrorReported(t *testing.T) {
	f := newFixture(t)
	old := time.Now().Add(-time.Hour)
	for i := range 5 {
		m := f.twilio.AddMessage(twiliotest.Message{AccountSID: twSID, To: "+1555000100" + itoa(i), Status: "delivered"})
		f.booking(bookings.Booking{CustomerPhone: "+1555000100" + itoa(i), SMSMessageSID: m.SID, SMSStatus: "sent", UpdatedAt: old})
	}
	f.twilio.Fail(http.StatusInternalServerError)
	reps := f.run(reconcile.Options{})
	r := reps["twilio"]
	if !r.Failed() || r.Errors != 3 || r.Applied != 0 {
		t.Errorf("twilio report %+v, want failed after 3 errors in a row", r)
	}
	if reps["holds"].Failed() || reps["stripe"].Failed() {
		t.Errorf("holds %+v stripe %+v: want them unaffected", reps["holds"], reps["stripe"])
	}
}

func itoa(i int) string { return itoa64(int64(i)) }

func itoa64(i int64) string {
	if i == 0 {
		return "0"
	}
	neg := i < 0
	if neg {
		i = -i
	}
	var b []byte
	for i > 0 {
		b = append([]byte{byte('0' + i%10)}, b...)
		i /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}
