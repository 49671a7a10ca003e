package jobs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/tasks"
)

// paidBooking is a confirmed booking whose confirmation SMS went out.
func (f *fixture) paidBooking() (bookings.Booking, string) {
	f.t.Helper()
	b := f.booking(bookings.StatusPaymentPending)
	f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_paid_"+b.CustomerName+f.now.String(), "payment_intent.succeeded", intent(b.ID, "pi_sms")))
	b = f.get(b.ID)
	if b.SMSMessageSID == "" {
		f.t.Fatal("no sms sid stored")
	}
	return b, b.SMSMessageSID
}

func TestSMSStatusMovesForwardOnly(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b, sid := f.paidBooking()
		for _, st := range []string{"sent", "delivered", "sent", "queued"} { // out of order
			f.mustRun(tasks.TypeSMSStatus, smsStatus(sid, st, b.CustomerPhone))
		}
		got := f.get(b.ID)
		if got.SMSStatus != "delivered" || !got.SMSDelivered || got.SMSDeliveredAt.IsZero() {
			t.Errorf("booking sms = %q delivered=%v at=%v", got.SMSStatus, got.SMSDelivered, got.SMSDeliveredAt)
		}
		f.mustRun(tasks.TypeSMSStatus, smsStatus(sid, "read", b.CustomerPhone))
		if got := f.get(b.ID); got.SMSStatus != "read" || !got.SMSDelivered {
			t.Errorf("after read: %q", got.SMSStatus)
		}
	})
}

func TestSMSFoundByPhoneWhenSidUnknown(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		f.mustRun(tasks.TypeSMSStatus, smsStatus("SMunknown", "delivered", b.CustomerPhone))
		if got := f.get(b.ID); !got.SMSDelivered {
			t.Errorf("booking not found by phone: %+v", got)
		}
	})
}

func TestUndeliveredFallsBackToEmailOnce(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b, sid := f.paidBooking()
		ev := smsStatus(sid, "undelivered", b.CustomerPhone)
		ev.ErrorCode = "30006"
		f.mustRun(tasks.TypeSMSStatus, ev)
		f.mustRun(tasks.TypeSMSStatus, ev)                                        // retried task
		f.mustRun(tasks.TypeSMSStatus, smsStatus(sid, "failed", b.CustomerPhone)) // a second failure
		mails := f.out.emailsTo(b.CustomerEmail)
		if len(mails) != 1 || !strings.Contains(mails[0].Subject+mails[0].Text, "confirm") {
			t.Errorf("fallback emails = %+v", mails)
		}
		alerts := f.out.emailsTo(support)
		if len(alerts) != 1 || !strings.Contains(alerts[0].Text, "30006") {
			t.Errorf("support alerts = %+v", alerts)
		}
		if got := f.get(b.ID); got.SMSStatus != "undelivered" || got.SMSDelivered {
			t.Errorf("booking sms = %q", got.SMSStatus)
		}
		if !strings.Contains(f.logs.String(), "error_code=30006") {
			t.Errorf("error code not logged:\n%s", f.logs)
		}
		// A late delivered report still wins.
		f.mustRun(tasks.TypeSMSStatus, smsStatus(sid, "delivered", b.CustomerPhone))
		if got := f.get(b.ID); !got.SMSDelivered {
			t.Error("delivered after undelivered was ignored")
		}
	})
}

// TestSMSStatusKeyedOnSidAndStatus: the same signed callback run with
// different idempotency tokens (a replay that got past the door, or a task
// queued by an older gateway under its token) is one event: one
// webhook_events row keyed MessageSid:MessageStatus, one fallback email,
// one support alert.
func TestSMSStatusKeyedOnSidAndStatus(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b, sid := f.paidBooking()
		for _, tok := range []string{"tok-1", "tok-2", ""} {
			ev := smsStatus(sid, "undelivered", b.CustomerPhone)
			ev.Token = tok
			f.mustRun(tasks.TypeSMSStatus, ev)
		}
		f.mustRun(tasks.TypeSMSStatus, map[string]any{"key": "tok-old", "message_sid": sid,
			"message_status": "undelivered", "to": b.CustomerPhone, "received_at": time.Now().UTC()})
		evs, err := s.Events(context.Background(), bookings.EventFilter{Source: "twilio"})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, e.ID+" "+e.Type+" "+e.Outcome)
		}
		if d := cmp.Diff([]string{sid + ":undelivered sms.undelivered sms_failed"}, got); d != "" {
			t.Errorf("twilio webhook_events (-want +got):\n%s", d)
		}
		if n := len(f.out.emailsTo(b.CustomerEmail)); n != 1 {
			t.Errorf("%d fallback emails, want 1", n)
		}
		if n := len(f.out.emailsTo(support)); n != 1 {
			t.Errorf("%d support alerts, want 1", n)
		}
	})
}
