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

func TestApplyChargeRefunded(t *testing.T) {
	paid := bookings.Booking{DepositPaid: true, DepositAmount: 6000}
	refunded := bookings.Booking{DepositPaid: true, DepositAmount: 6000, DepositRefunded: true, RefundedAt: earlier}
	nowRefunded := bookings.Booking{DepositPaid: true, DepositAmount: 6000, DepositRefunded: true, RefundedAt: now}
	tests := []struct {
		name     string
		in       bookings.Booking
		charge   bookings.ChargeRefund
		recorded int64
		want     bookings.Booking
		wantOut  bookings.RefundOutcome
	}{
		{"whole deposit at once", paid, bookings.ChargeRefund{Amount: 6000, Refunded: 6000, Full: true}, 0,
			nowRefunded, bookings.RefundOutcome{New: 6000, Of: 6000, Full: true, Share: bookings.RefundWhole}},
		{"whole by amount, flag missing", paid, bookings.ChargeRefund{Amount: 6000, Refunded: 6000}, 0,
			nowRefunded, bookings.RefundOutcome{New: 6000, Of: 6000, Full: true, Share: bookings.RefundWhole}},
		{"first part", paid, bookings.ChargeRefund{Amount: 6000, Refunded: 2000}, 0,
			paid, bookings.RefundOutcome{New: 2000, Of: 6000, Share: bookings.RefundPart}},
		{"second part, still not all", paid, bookings.ChargeRefund{Amount: 6000, Refunded: 3500}, 2000,
			paid, bookings.RefundOutcome{New: 1500, Of: 6000, Share: bookings.RefundPart}},
		{"the rest", paid, bookings.ChargeRefund{Amount: 6000, Refunded: 6000, Full: true}, 2000,
			nowRefunded, bookings.RefundOutcome{New: 4000, Of: 6000, Full: true, Share: bookings.RefundTheRest}},
		{"a copy of the first part records nothing", paid, bookings.ChargeRefund{Amount: 6000, Refunded: 2000}, 2000,
			paid, bookings.RefundOutcome{Of: 6000}},
		{"an older part after the whole changes nothing", refunded, bookings.ChargeRefund{Amount: 6000, Refunded: 2000}, 6000,
			refunded, bookings.RefundOutcome{Of: 6000}},
		{"a copy of the whole keeps the first time", refunded, bookings.ChargeRefund{Amount: 6000, Refunded: 6000, Full: true}, 6000,
			refunded, bookings.RefundOutcome{Of: 6000, Full: true}},
		{"flag without amount_refunded: the whole amount", paid, bookings.ChargeRefund{Amount: 6000, Full: true}, 0,
			nowRefunded, bookings.RefundOutcome{New: 6000, Of: 6000, Full: true, Share: bookings.RefundWhole}},
		{"no amount_refunded, no flag: nothing", paid, bookings.ChargeRefund{Amount: 6000}, 0,
			paid, bookings.RefundOutcome{Of: 6000}},
		{"charge without amount: the deposit's", paid, bookings.ChargeRefund{Refunded: 2000}, 0,
			paid, bookings.RefundOutcome{New: 2000, Of: 6000, Share: bookings.RefundPart}},
		{"a charge larger than the deposit counts", paid, bookings.ChargeRefund{Amount: 8000, Refunded: 6000}, 0,
			paid, bookings.RefundOutcome{New: 6000, Of: 8000, Share: bookings.RefundPart}},
		{"refunded before paid is still recorded", bookings.Booking{DepositAmount: 6000},
			bookings.ChargeRefund{Amount: 6000, Refunded: 6000, Full: true}, 0,
			bookings.Booking{DepositAmount: 6000, DepositRefunded: true, RefundedAt: now},
			bookings.RefundOutcome{New: 6000, Of: 6000, Full: true, Share: bookings.RefundWhole}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, out := bookings.ApplyChargeRefunded(tt.in, tt.charge, tt.recorded, now)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("booking mismatch (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantOut, out); d != "" {
				t.Errorf("outcome mismatch (-want +got):\n%s", d)
			}
		})
	}
}
