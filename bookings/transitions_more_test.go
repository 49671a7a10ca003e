package bookings_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
)

func TestApplyPaymentFailed(t *testing.T) {
	const hold = 30 * time.Minute
	running := earlier.Add(hold)
	tests := []struct {
		name    string
		in      bookings.Booking
		pi      string
		want    bookings.Booking
		wantOut bookings.FailureOutcome
	}{
		{"first failure starts the hold",
			bookings.Booking{Status: bookings.StatusConfirmed},
			"pi_1",
			bookings.Booking{Status: bookings.StatusPaymentPending, StripePaymentIntentID: "pi_1", HoldExpiresAt: now.Add(hold)},
			bookings.FailureOutcome{Pending: true, HoldStarted: true}},
		{"second failure keeps the running hold",
			bookings.Booking{Status: bookings.StatusPaymentPending, StripePaymentIntentID: "pi_1", HoldExpiresAt: running},
			"pi_1",
			bookings.Booking{Status: bookings.StatusPaymentPending, StripePaymentIntentID: "pi_1", HoldExpiresAt: running},
			bookings.FailureOutcome{Pending: true}},
		{"another intent does not replace the stored one",
			bookings.Booking{Status: bookings.StatusPaymentPending, StripePaymentIntentID: "pi_1", HoldExpiresAt: running},
			"pi_2",
			bookings.Booking{Status: bookings.StatusPaymentPending, StripePaymentIntentID: "pi_1", HoldExpiresAt: running},
			bookings.FailureOutcome{Pending: true}},
		{"late failure for a paid booking",
			bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: earlier, StripePaymentIntentID: "pi_1"},
			"pi_1",
			bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: earlier, StripePaymentIntentID: "pi_1"},
			bookings.FailureOutcome{}},
		{"failure for a cancelled booking",
			bookings.Booking{Status: bookings.StatusCancelled, CancelledAt: earlier},
			"pi_1",
			bookings.Booking{Status: bookings.StatusCancelled, CancelledAt: earlier},
			bookings.FailureOutcome{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, out := bookings.ApplyPaymentFailed(tt.in, tt.pi, now, hold)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("booking mismatch (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantOut, out); d != "" {
				t.Errorf("outcome mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestApplyAutoCancel(t *testing.T) {
	pending := bookings.Booking{Status: bookings.StatusPaymentPending, HoldExpiresAt: now}
	cancelled := bookings.Booking{Status: bookings.StatusCancelled, CancelledAt: now,
		CancelReason: bookings.CancelReasonPaymentNotReceived}
	paid := pending
	paid.DepositPaid = true
	noHold := pending
	noHold.HoldExpiresAt = time.Time{}
	confirmed := pending
	confirmed.Status = bookings.StatusConfirmed
	tests := []struct {
		name string
		in   bookings.Booking
		at   time.Time
		want bookings.Booking
		ok   bool
	}{
		{"before expiry", pending, now.Add(-time.Second), pending, false},
		{"at expiry", pending, now, cancelled, true},
		{"after expiry", pending, now.Add(time.Hour), func() bookings.Booking {
			c := cancelled
			c.CancelledAt = now.Add(time.Hour)
			return c
		}(), true},
		{"paid meanwhile", paid, now.Add(time.Hour), paid, false},
		{"confirmed meanwhile", confirmed, now.Add(time.Hour), confirmed, false},
		{"no hold", noHold, now.Add(time.Hour), noHold, false},
		{"already cancelled", cancelled, now.Add(time.Hour), cancelled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := bookings.ApplyAutoCancel(tt.in, tt.at)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("booking mismatch (-want +got):\n%s", d)
			}
			if ok != tt.ok {
				t.Errorf("cancelled = %v, want %v", ok, tt.ok)
			}
		})
	}
}

func TestApplyRefund(t *testing.T) {
	tests := []struct {
		name string
		in   bookings.Booking
		want bookings.Booking
	}{
		{"first refund", bookings.Booking{DepositPaid: true},
			bookings.Booking{DepositPaid: true, DepositRefunded: true, RefundedAt: now}},
		{"again keeps the first time", bookings.Booking{DepositPaid: true, DepositRefunded: true, RefundedAt: earlier},
			bookings.Booking{DepositPaid: true, DepositRefunded: true, RefundedAt: earlier}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if d := cmp.Diff(tt.want, bookings.ApplyRefund(tt.in, now)); d != "" {
				t.Errorf("booking mismatch (-want +got):\n%s", d)
			}
		})
	}
}
