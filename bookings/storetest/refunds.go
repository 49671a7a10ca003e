package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

// refundFn returns an Apply function that applies a charge.refunded event
// the way the worker does: the newly refunded amount is Stripe's cumulative
// figure minus the refund rows already recorded for the charge.
func refundFn(id int64, ev bookings.Event, c bookings.ChargeRefund, at time.Time) func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
	return func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		b, err := tx.BookingForUpdate(ctx, id)
		if err != nil {
			return bookings.Result{}, err
		}
		recorded, err := tx.SumTransactions(ctx, bookings.KindRefund, "ch_refunds")
		if err != nil {
			return bookings.Result{}, err
		}
		b, out := bookings.ApplyChargeRefunded(b, c, recorded, at)
		if err := tx.UpdateBooking(ctx, b, at); err != nil {
			return bookings.Result{}, err
		}
		if out.New > 0 {
			_, err = tx.AddTransaction(ctx, bookings.Transaction{BookingID: id, Kind: bookings.KindRefund,
				Amount: out.New, Currency: "usd", StripeObjectID: "ch_refunds", StripeEventID: ev.ID, CreatedAt: at})
		}
		return bookings.Result{BookingID: id, Outcome: string(out.Share)}, err
	}
}

// testPartialRefunds: two partial refunds of one charge, as a store keeps
// them: a refund row each, the deposit refunded (and refunded_at set, in
// the columns other systems read) only by the one completing the refund.
func testPartialRefunds(t *testing.T, s bookings.Store) {
	b := minimalBooking("+15550014444")
	b.DepositAmount, b.DepositCurrency = 6000, "usd"
	b = mustCreate(t, s, b)
	columns := func() string {
		return fmt.Sprintf("refunded=%d stamped=%d refund_rows=%d sum=%d",
			rawInt(t, s, "SELECT CASE WHEN deposit_refunded THEN 1 ELSE 0 END FROM bookings WHERE id = %d", b.ID),
			rawInt(t, s, "SELECT COUNT(*) FROM bookings WHERE id = %d AND refunded_at IS NOT NULL", b.ID),
			rawInt(t, s, "SELECT COUNT(*) FROM transactions WHERE kind = 'refund' AND booking_id = %d", b.ID),
			rawInt(t, s, "SELECT COALESCE(SUM(amount), 0) FROM transactions WHERE kind = 'refund' AND stripe_object_id = 'ch_refunds'"))
	}
	steps := []struct {
		id     string
		charge bookings.ChargeRefund
		want   string
	}{
		{"evt_part", bookings.ChargeRefund{Amount: 6000, Refunded: 2000}, "refunded=0 stamped=0 refund_rows=1 sum=2000"},
		{"evt_rest", bookings.ChargeRefund{Amount: 6000, Refunded: 6000, Full: true}, "refunded=1 stamped=1 refund_rows=2 sum=6000"},
	}
	for i, st := range steps {
		ev := bookings.Event{Source: "stripe", ID: st.id, Type: "charge.refunded", ReceivedAt: t0}
		at := t0.Add(time.Duration(i+1) * time.Minute)
		if err := s.Apply(t.Context(), ev, refundFn(b.ID, ev, st.charge, at)); err != nil {
			t.Fatalf("Apply(%s): %v", st.id, err)
		}
		// A copy of the event changes nothing.
		if err := s.Apply(t.Context(), ev, refundFn(b.ID, ev, st.charge, at)); !errors.Is(err, bookings.ErrAlreadyApplied) {
			t.Fatalf("Apply(%s) again: %v, want ErrAlreadyApplied", st.id, err)
		}
		if got := columns(); got != st.want {
			t.Errorf("after %s: %s, want %s", st.id, got, st.want)
		}
	}
	got := mustGet(t, s, b.ID)
	checkNear(t, "RefundedAt", got.RefundedAt, t0.Add(2*time.Minute), time.Millisecond)
	if !got.DepositRefunded {
		t.Error("DepositRefunded = false after the whole charge was refunded")
	}
}
