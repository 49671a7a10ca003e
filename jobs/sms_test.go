package jobs_test

import (
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/jobs"
)

// paidBooking is a confirmed booking whose confirmation SMS went out.
func (f *fixture) paidBooking() (bookings.Booking, string) {
	f.t.Helper()
	b := f.booking(bookings.StatusPaymentPending)
	f.mustRun(jobs.TypePaymentSucceeded, stripeEvent("evt_paid_"+b.CustomerName+f.now.String(), "payment_intent.succeeded", intent(b.ID, "pi_sms")))
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
			f.mustRun(jobs.TypeSMSStatus, smsStatus(sid, st, b.CustomerPhone))
		}
		got := f.get(b.ID)
		if got.SMSStatus != "delivered" || !got.SMSDelivered || got.SMSDeliveredAt.IsZero() {
			t.Errorf("booking sms = %q delivered=%v at=%v", got.SMSStatus, got.SMSDelivered, got.SMSDeliveredAt)
		}
		f.mustRun(jobs.TypeSMSStatus, smsStatus(sid, "read", b.CustomerPhone))
		if got := f.get(b.ID); got.SMSStatus != "read" || !got.SMSDelivered {
			t.Errorf("after read: %q", got.SMSStatus)
		}
	})
}

func TestSMSFoundByPhoneWhenSidUnknown(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		f.mustRun(jobs.TypeSMSStatus, smsStatus("SMunknown", "delivered", b.CustomerPhone))
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
		f.mustRun(jobs.TypeSMSStatus, ev)
		f.mustRun(jobs.TypeSMSStatus, ev)                                        // retried task
		f.mustRun(jobs.TypeSMSStatus, smsStatus(sid, "failed", b.CustomerPhone)) // a second failure
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
		f.mustRun(jobs.TypeSMSStatus, smsStatus(sid, "delivered", b.CustomerPhone))
		if got := f.get(b.ID); !got.SMSDelivered {
			t.Error("delivered after undelivered was ignored")
		}
	})
}
