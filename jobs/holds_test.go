package jobs_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/tasks"
)

// fireHolds runs every scheduled auto-cancel that is due.
func (f *fixture) fireHolds() {
	f.t.Helper()
	for _, id := range f.sched.order {
		task := f.sched.tasks[id]
		if err := f.mux.ProcessTask(t0ctx(), task); err != nil {
			f.t.Fatalf("auto-cancel %s: %v", id, err)
		}
	}
	if err := f.sendQueued(); err != nil {
		f.t.Fatalf("messages of the auto-cancels: %v", err)
	}
}

func TestPaymentFailedHoldThenCancel(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		f.mustRun(tasks.TypePaymentFailed, stripeEvent("evt_f1", "payment_intent.payment_failed", intent(b.ID, "pi_f")))
		f.advance(30 * time.Minute)
		f.mustRun(tasks.TypePaymentFailed, stripeEvent("evt_f2", "payment_intent.payment_failed", intent(b.ID, "pi_f")))

		got := f.get(b.ID)
		wantExpiry := time.Date(2026, 11, 23, 14, 0, 0, 0, time.UTC)
		if got.Status != bookings.StatusPaymentPending || !got.HoldExpiresAt.Equal(wantExpiry) {
			t.Fatalf("booking = %s hold %v, want payment_pending until %v", got.Status, got.HoldExpiresAt, wantExpiry)
		}
		if len(f.sched.order) != 1 {
			t.Fatalf("auto-cancels scheduled = %v, want one per hold", f.sched.order)
		}
		mails := f.out.emailsTo(b.CustomerEmail)
		if len(mails) != 2 || !strings.Contains(mails[0].Text, "Your payment failed. Please update your card.") {
			t.Errorf("emails = %+v", mails)
		}

		f.advance(90 * time.Minute)
		f.fireHolds()
		f.fireHolds() // a retried auto-cancel changes nothing
		got = f.get(b.ID)
		if got.Status != bookings.StatusCancelled || got.CancelReason != "payment_not_received" || got.CancelledAt.IsZero() {
			t.Errorf("booking after hold = %+v", got)
		}
		mails = f.out.emailsTo(b.CustomerEmail)
		if len(mails) != 3 || !strings.Contains(strings.ToLower(mails[2].Subject+mails[2].Text), "cancel") {
			t.Errorf("cancellation email missing: %+v", mails)
		}
		// A payment arriving after the cancellation does not reconfirm.
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_after", "payment_intent.succeeded", intent(b.ID, "pi_f")))
		if got := f.get(b.ID); got.Status != bookings.StatusCancelled {
			t.Errorf("status = %s after a late payment", got.Status)
		}
	})
}

func TestFailedThenPaidWithinHoldStaysConfirmed(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		f.mustRun(tasks.TypePaymentFailed, stripeEvent("evt_f", "payment_intent.payment_failed", intent(b.ID, "pi_g")))
		f.advance(time.Hour)
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_s", "payment_intent.succeeded", intent(b.ID, "pi_g")))
		f.advance(2 * time.Hour)
		f.fireHolds()
		// A late failure for the paid booking changes nothing either.
		f.mustRun(tasks.TypePaymentFailed, stripeEvent("evt_f_late", "payment_intent.payment_failed", intent(b.ID, "pi_g")))
		got := f.get(b.ID)
		if got.Status != bookings.StatusConfirmed || !got.DepositPaid || !got.CancelledAt.IsZero() {
			t.Errorf("booking = %+v", got)
		}
		if n := len(f.out.emailsTo(b.CustomerEmail)); n != 1 {
			t.Errorf("emails = %d, want only the first failure's", n)
		}
	})
}

func TestHoldNotDueYetDoesNothing(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		f.mustRun(tasks.TypePaymentFailed, stripeEvent("evt_f", "payment_intent.payment_failed", intent(b.ID, "pi_h")))
		// Fire a stale hold (an older expiry): the booking is left alone.
		f.mustRun(tasks.TypeAutoCancel, tasks.AutoCancel{BookingID: b.ID, HoldExpiresAt: f.now.Add(-time.Hour)})
		if got := f.get(b.ID); got.Status != bookings.StatusPaymentPending {
			t.Errorf("status = %s", got.Status)
		}
	})
}
