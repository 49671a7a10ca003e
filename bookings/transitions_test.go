package bookings_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
)

var (
	now     = time.Date(2025, 3, 1, 18, 0, 0, 0, time.UTC)
	earlier = now.Add(-time.Hour)
)

func TestApplySMSStatus(t *testing.T) {
	withSMS := func(status string, delivered bool, at time.Time) bookings.Booking {
		return bookings.Booking{ID: 1, SMSStatus: status, SMSDelivered: delivered, SMSDeliveredAt: at}
	}
	tests := []struct {
		name    string
		in      bookings.Booking
		status  string
		want    bookings.Booking
		wantUpd bookings.SMSUpdate
	}{
		{"first status", withSMS("", false, time.Time{}), "queued", withSMS("queued", false, time.Time{}), bookings.SMSUpdate{Changed: true}},
		{"forward", withSMS("queued", false, time.Time{}), "sent", withSMS("sent", false, time.Time{}), bookings.SMSUpdate{Changed: true}},
		{"unknown status ignored", withSMS("sent", false, time.Time{}), "bogus", withSMS("sent", false, time.Time{}), bookings.SMSUpdate{}},
		{"same status", withSMS("sent", false, time.Time{}), "sent", withSMS("sent", false, time.Time{}), bookings.SMSUpdate{}},
		{"out of order: sent after delivered", withSMS("delivered", true, earlier), "sent", withSMS("delivered", true, earlier), bookings.SMSUpdate{}},
		{"out of order: accepted after queued", withSMS("queued", false, time.Time{}), "accepted", withSMS("queued", false, time.Time{}), bookings.SMSUpdate{}},
		{"delivered", withSMS("sent", false, time.Time{}), "delivered", withSMS("delivered", true, now), bookings.SMSUpdate{Changed: true}},
		{"read keeps first delivery time", withSMS("delivered", true, earlier), "read", withSMS("read", true, earlier), bookings.SMSUpdate{Changed: true}},
		{"read without delivered", withSMS("sent", false, time.Time{}), "read", withSMS("read", true, now), bookings.SMSUpdate{Changed: true}},
		{"delivered after read", withSMS("read", true, earlier), "delivered", withSMS("read", true, earlier), bookings.SMSUpdate{}},
		{"first failure", withSMS("sent", false, time.Time{}), "failed", withSMS("failed", false, time.Time{}), bookings.SMSUpdate{Changed: true, FirstFailure: true}},
		{"first failure: undelivered", withSMS("queued", false, time.Time{}), "undelivered", withSMS("undelivered", false, time.Time{}), bookings.SMSUpdate{Changed: true, FirstFailure: true}},
		{"failure from unknown status", withSMS("weird", false, time.Time{}), "failed", withSMS("failed", false, time.Time{}), bookings.SMSUpdate{Changed: true, FirstFailure: true}},
		{"second failure", withSMS("failed", false, time.Time{}), "undelivered", withSMS("failed", false, time.Time{}), bookings.SMSUpdate{}},
		{"canceled is not a failure", withSMS("sent", false, time.Time{}), "canceled", withSMS("canceled", false, time.Time{}), bookings.SMSUpdate{Changed: true}},
		{"failure after canceled", withSMS("canceled", false, time.Time{}), "failed", withSMS("canceled", false, time.Time{}), bookings.SMSUpdate{}},
		{"failure after delivered", withSMS("delivered", true, earlier), "failed", withSMS("delivered", true, earlier), bookings.SMSUpdate{}},
		{"delivered after failed", withSMS("failed", false, time.Time{}), "delivered", withSMS("delivered", true, now), bookings.SMSUpdate{Changed: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, upd := bookings.ApplySMSStatus(tt.in, tt.status, now)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("booking mismatch (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantUpd, upd); d != "" {
				t.Errorf("update mismatch (-want +got):\n%s", d)
			}
		})
	}
}

func TestSMSRank(t *testing.T) {
	order := [][]string{{"accepted", "scheduled"}, {"queued"}, {"sending"}, {"sent"},
		{"failed", "undelivered", "canceled"}, {"delivered"}, {"read"}}
	for i, group := range order {
		for _, s := range group {
			if r, ok := bookings.SMSRank(s); !ok || r != i {
				t.Errorf("SMSRank(%q) = %d, %v; want %d, true", s, r, ok, i)
			}
		}
	}
	if _, ok := bookings.SMSRank("bogus"); ok {
		t.Error(`SMSRank("bogus") is known, want unknown`)
	}
}

func TestApplyPaymentSucceeded(t *testing.T) {
	hold := now.Add(time.Hour)
	tests := []struct {
		name    string
		in      bookings.Booking
		pi      string
		want    bookings.Booking
		wantOut bookings.PaymentOutcome
	}{
		{"pending booking confirmed",
			bookings.Booking{Status: bookings.StatusPaymentPending, HoldExpiresAt: hold},
			"pi_1",
			bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: now, StripePaymentIntentID: "pi_1"},
			bookings.PaymentOutcome{Record: true, Confirm: true}},
		{"confirmed booking paid",
			bookings.Booking{Status: bookings.StatusConfirmed},
			"pi_1",
			bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: now, StripePaymentIntentID: "pi_1"},
			bookings.PaymentOutcome{Record: true, Confirm: true}},
		{"already paid by this intent",
			bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: earlier, StripePaymentIntentID: "pi_1"},
			"pi_1",
			bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: earlier, StripePaymentIntentID: "pi_1"},
			bookings.PaymentOutcome{}},
		{"paid again by another intent",
			bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: earlier, StripePaymentIntentID: "pi_1"},
			"pi_2",
			bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: earlier, StripePaymentIntentID: "pi_1"},
			bookings.PaymentOutcome{Record: true, PaidTwice: true}},
		{"cancelled booking paid again by the same intent",
			bookings.Booking{Status: bookings.StatusCancelled, DepositPaid: true, DepositPaidAt: earlier, StripePaymentIntentID: "pi_1"},
			"pi_1",
			bookings.Booking{Status: bookings.StatusCancelled, DepositPaid: true, DepositPaidAt: earlier, StripePaymentIntentID: "pi_1"},
			bookings.PaymentOutcome{}},
		{"cancelled booking not reconfirmed",
			bookings.Booking{Status: bookings.StatusCancelled, CancelledAt: earlier, CancelReason: bookings.CancelReasonPaymentNotReceived},
			"pi_1",
			bookings.Booking{Status: bookings.StatusCancelled, CancelledAt: earlier, CancelReason: bookings.CancelReasonPaymentNotReceived,
				DepositPaid: true, DepositPaidAt: now, StripePaymentIntentID: "pi_1"},
			bookings.PaymentOutcome{Record: true, PaidWhileCancelled: true}},
		{"no intent id keeps the stored one",
			bookings.Booking{Status: bookings.StatusPaymentPending, StripePaymentIntentID: "pi_1"},
			"",
			bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: now, StripePaymentIntentID: "pi_1"},
			bookings.PaymentOutcome{Record: true, Confirm: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, out := bookings.ApplyPaymentSucceeded(tt.in, tt.pi, false, now)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("booking mismatch (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.wantOut, out); d != "" {
				t.Errorf("outcome mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestApplyPaymentSucceededRecordedIntent: another event for a second
// PaymentIntent that is already recorded adds nothing.
func TestApplyPaymentSucceededRecordedIntent(t *testing.T) {
	in := bookings.Booking{Status: bookings.StatusConfirmed, DepositPaid: true, DepositPaidAt: earlier, StripePaymentIntentID: "pi_1"}
	got, out := bookings.ApplyPaymentSucceeded(in, "pi_2", true, now)
	if d := cmp.Diff(in, got); d != "" {
		t.Errorf("booking mismatch (-want +got):\n%s", d)
	}
	if d := cmp.Diff(bookings.PaymentOutcome{}, out); d != "" {
		t.Errorf("outcome mismatch (-want +got):\n%s", d)
	}
}
