package bookings

import "time"

// smsRank orders Twilio message statuses: a callback never moves a booking
// back to a lower rank. Unknown statuses rank -1 and are ignored.
var smsRank = map[string]int{
	"accepted":    0,
	"scheduled":   0,
	"queued":      1,
	"sending":     2,
	"sent":        3,
	"failed":      4,
	"undelivered": 4,
	"canceled":    4,
	"delivered":   5,
	"read":        6,
}

// SMSRank returns the rank of a Twilio message status and whether it is known.
func SMSRank(status string) (int, bool) {
	r, ok := smsRank[status]
	return r, ok
}

// FinalSMSStatuses are the Twilio message statuses after which Twilio
// sends no further callback: a message in any other status may still move.
var FinalSMSStatuses = []string{"delivered", "undelivered", "failed", "read", "canceled"}

// SMSFinal reports whether status is one of FinalSMSStatuses.
func SMSFinal(status string) bool {
	for _, f := range FinalSMSStatuses {
		if status == f {
			return true
		}
	}
	return false
}

// SMSFailed reports whether status means the message will not arrive.
func SMSFailed(status string) bool {
	return status == "failed" || status == "undelivered"
}

// SMSUpdate is the result of applying a Twilio status callback.
type SMSUpdate struct {
	Changed bool // the booking's sms columns changed
	// FirstFailure is true when this callback is the first failed or
	// undelivered status for the message: fall back to email and alert support.
	FirstFailure bool
}

// ApplySMSStatus moves b's SMS status forward to status. A status ranked
// lower than the current one, or equal to it, changes nothing.
func ApplySMSStatus(b Booking, status string, now time.Time) (Booking, SMSUpdate) {
	next, ok := SMSRank(status)
	if !ok {
		return b, SMSUpdate{}
	}
	if cur, known := SMSRank(b.SMSStatus); known && next <= cur {
		return b, SMSUpdate{}
	}
	wasFailed := SMSFailed(b.SMSStatus)
	b.SMSStatus = status
	if status == "delivered" || status == "read" {
		if !b.SMSDelivered {
			b.SMSDelivered = true
			b.SMSDeliveredAt = now
		}
	}
	return b, SMSUpdate{Changed: true, FirstFailure: SMSFailed(status) && !wasFailed}
}

// PaymentOutcome is what a successful payment requires beyond the booking row.
type PaymentOutcome struct {
	// Record is true when a payment row belongs in transactions (this
	// PaymentIntent was not recorded before, nor is it the one the booking
	// was already paid by).
	Record bool
	// Confirm is true when this payment confirmed the booking: the
	// confirmation SMS goes out (once: a booking already paid is not
	// confirmed again).
	Confirm bool
	// PaidWhileCancelled is true when money arrived for a cancelled booking:
	// it is not reconfirmed and support is alerted.
	PaidWhileCancelled bool
	// PaidTwice is true when a booking already paid by one PaymentIntent is
	// paid by another: support is alerted (a refund may be due).
	PaidTwice bool
}

// ApplyPaymentSucceeded marks the deposit paid by PaymentIntent pi;
// recorded says whether a payment row for pi exists already (another event
// for the same PaymentIntent).
func ApplyPaymentSucceeded(b Booking, pi string, recorded bool, now time.Time) (Booking, PaymentOutcome) {
	wasPaid := b.DepositPaid
	out := PaymentOutcome{Record: !recorded && !(wasPaid && (b.StripePaymentIntentID == pi || pi == ""))}
	if !wasPaid {
		b.DepositPaid = true
		b.DepositPaidAt = now
		if pi != "" {
			b.StripePaymentIntentID = pi
		}
	}
	b.HoldExpiresAt = time.Time{}
	switch {
	case b.Status == StatusCancelled:
		out.PaidWhileCancelled = out.Record
	case wasPaid:
		out.PaidTwice = out.Record
	default:
		b.Status = StatusConfirmed
		out.Confirm = true
	}
	return b, out
}

// FailureOutcome is what a failed payment requires beyond the booking row.
type FailureOutcome struct {
	// Pending is true when the booking is (now) waiting for its deposit:
	// email the customer.
	Pending bool
	// HoldStarted is true when this failure started a new hold: schedule the
	// auto-cancel at the booking's HoldExpiresAt.
	HoldStarted bool
}

// ApplyPaymentFailed moves an unpaid, not cancelled booking to
// payment_pending and starts a hold of length hold unless one is running.
// A late failure for a paid or cancelled booking changes nothing.
func ApplyPaymentFailed(b Booking, pi string, now time.Time, hold time.Duration) (Booking, FailureOutcome) {
	if b.DepositPaid || b.Status == StatusCancelled {
		return b, FailureOutcome{}
	}
	if b.StripePaymentIntentID == "" && pi != "" {
		b.StripePaymentIntentID = pi
	}
	b.Status = StatusPaymentPending
	out := FailureOutcome{Pending: true}
	if b.HoldExpiresAt.IsZero() {
		b.HoldExpiresAt = now.Add(hold)
		out.HoldStarted = true
	}
	return b, out
}

// ApplyAutoCancel cancels b when its hold has run out and the deposit is
// still missing. It reports whether the booking was cancelled.
func ApplyAutoCancel(b Booking, now time.Time) (Booking, bool) {
	if b.Status != StatusPaymentPending || b.DepositPaid || b.HoldExpiresAt.IsZero() || now.Before(b.HoldExpiresAt) {
		return b, false
	}
	b.Status = StatusCancelled
	b.CancelledAt = now
	b.CancelReason = CancelReasonPaymentNotReceived
	b.HoldExpiresAt = time.Time{}
	return b, true
}

// ChargeRefund is what a charge.refunded event says about its charge.
type ChargeRefund struct {
	Amount int64 // the charge's amount (minor units)
	// Refunded is amount_refunded: the total refunded so far, every refund
	// of the charge included (Stripe's figure is cumulative).
	Refunded int64
	// Full is the charge's refunded flag: refunded in full.
	Full bool
}

// RefundShare says how much of the deposit a refund gave back, for the
// customer's email.
type RefundShare string

// Refund shares.
const (
	RefundWhole   RefundShare = "whole"    // the whole deposit at once
	RefundPart    RefundShare = "part"     // a part; more of it is still paid
	RefundTheRest RefundShare = "the_rest" // the last part: refunded in full now
)

// RefundOutcome is what a charge.refunded event requires beyond the
// booking row.
type RefundOutcome struct {
	// New is the amount newly refunded by this event: the refund row to
	// record and email. 0: nothing new (a copy, or an older event arriving
	// after a later one).
	New int64
	// Of is the charge's amount that New is part of (the deposit).
	Of int64
	// Full is true when the charge is now refunded in full.
	Full bool
	// Share is how the email words New (set when New > 0).
	Share RefundShare
}

// ApplyChargeRefunded applies a charge.refunded event; recorded is the
// total already recorded in refund rows for that charge. The newly refunded
// amount is the charge's cumulative amount_refunded minus recorded. The
// deposit is marked refunded only once the charge is refunded in full
// (amount_refunded reaches the amount, or the refunded flag is set), and
// never unmarked. The charge's amount stands in for the deposit; when the
// event lacks it, the booking's deposit amount does.
func ApplyChargeRefunded(b Booking, c ChargeRefund, recorded int64, now time.Time) (Booking, RefundOutcome) {
	of := c.Amount
	if of <= 0 {
		of = b.DepositAmount
	}
	total := c.Refunded
	if total <= 0 && c.Full {
		total = of
	}
	out := RefundOutcome{Of: of, Full: c.Full || (of > 0 && total >= of)}
	if total > recorded {
		out.New = total - recorded
	}
	switch {
	case out.New == 0:
	case !out.Full:
		out.Share = RefundPart
	case recorded > 0:
		out.Share = RefundTheRest
	default:
		out.Share = RefundWhole
	}
	if out.Full && !b.DepositRefunded {
		b.DepositRefunded = true
		b.RefundedAt = now
	}
	return b, out
}
