package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

func testTransactions(t *testing.T, s bookings.Store) {
	b := mustCreate(t, s, minimalBooking("+15550013333"))
	in := []bookings.Transaction{
		{BookingID: b.ID, Kind: bookings.KindPayment, Amount: 6000, Currency: "usd",
			StripeObjectID: "pi_1", StripeEventID: "evt_pay", CreatedAt: t0},
		{BookingID: b.ID, Kind: bookings.KindRefund, Amount: 2000, Currency: "usd",
			StripeObjectID: "ch_1", StripeEventID: "evt_r1", CreatedAt: t0.Add(time.Minute)},
		{BookingID: b.ID, Kind: bookings.KindRefund, Amount: 1500, Currency: "usd",
			StripeObjectID: "ch_1", StripeEventID: "evt_r2", CreatedAt: t0.Add(2 * time.Minute)},
		{BookingID: b.ID, Kind: bookings.KindRefund, Amount: 999, Currency: "eur",
			StripeObjectID: "ch_2", CreatedAt: t0.Add(3 * time.Minute)}, // no event id: NULL
	}
	var added []bookings.Transaction
	run(t, s, func(ctx context.Context, tx bookings.Tx) error {
		for _, tr := range in {
			got, err := tx.AddTransaction(ctx, tr)
			if err != nil {
				return err
			}
			if got.ID == 0 {
				t.Errorf("AddTransaction(%+v) returned ID 0", tr)
			}
			added = append(added, got)
		}
		return nil
	})
	list, err := s.Transactions(t.Context(), b.ID)
	if err != nil {
		t.Fatalf("Transactions: %v", err)
	}
	diff(t, "Transactions", added, list)
	checkSums(t, s)

	// One row per Stripe event and kind.
	err = s.Run(t.Context(), func(ctx context.Context, tx bookings.Tx) error {
		_, err := tx.AddTransaction(ctx, in[1])
		return err
	})
	if err == nil {
		t.Error("AddTransaction of a second refund row for evt_r1 succeeded, want an error")
	}
	if n := rawInt(t, s, "SELECT COUNT(*) FROM transactions"); n != int64(len(in)) {
		t.Errorf("%d transactions, want %d", n, len(in))
	}
}

// checkSums checks SumTransactions over the rows testTransactions adds.
func checkSums(t *testing.T, s bookings.Store) {
	t.Helper()
	sums := []struct {
		kind   bookings.TxKind
		object string
		want   int64
	}{
		{bookings.KindRefund, "ch_1", 3500},
		{bookings.KindRefund, "ch_2", 999},
		{bookings.KindPayment, "ch_1", 0},
		{bookings.KindPayment, "pi_1", 6000},
		{bookings.KindRefund, "ch_none", 0},
	}
	for _, tt := range sums {
		var got int64
		run(t, s, func(ctx context.Context, tx bookings.Tx) error {
			var err error
			got, err = tx.SumTransactions(ctx, tt.kind, tt.object)
			return err
		})
		if got != tt.want {
			t.Errorf("SumTransactions(%s, %s) = %d, want %d", tt.kind, tt.object, got, tt.want)
		}
	}

}
