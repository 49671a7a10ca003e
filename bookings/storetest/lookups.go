package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

func testUpdateBooking(t *testing.T, s bookings.Store) {
	created := mustCreate(t, s, minimalBooking("+15550005555"))
	steps := []struct {
		name    string
		b       bookings.Booking
		now     time.Time
		allNull bool
	}{
		{name: "every field set", b: fullBooking(), now: t0.Add(time.Hour)},
		{name: "every field cleared", b: bookings.Booking{CustomerName: "Grace Hopper",
			CustomerPhone: "+15550005555", Status: bookings.StatusCancelled, DepositCurrency: "usd"},
			now: t0.Add(2 * time.Hour), allNull: true},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.b.ID = created.ID
			run(t, s, func(ctx context.Context, tx bookings.Tx) error { return tx.UpdateBooking(ctx, st.b, st.now) })
			want := st.b
			want.CreatedAt = created.CreatedAt // never written
			want.UpdatedAt = st.now
			got := mustGet(t, s, created.ID)
			diff(t, "Booking", want, got)
			checkTimesUTC(t, got)
			if st.allNull && rawInt(t, s, nullColumnsSQL, created.ID) != 1 {
				t.Error("empty strings and zero times are not stored as NULL")
			}
		})
	}
}

func testLookups(t *testing.T, s bookings.Store) {
	const phone, other = "+15550006666", "+15550007777"
	mk := func(phone string, st bookings.Status, created time.Time, sid, pi string) bookings.Booking {
		b := minimalBooking(phone)
		b.Status, b.CreatedAt, b.SMSMessageSID, b.StripePaymentIntentID = st, created, sid, pi
		return mustCreate(t, s, b)
	}
	olderConfirmed := mk(phone, bookings.StatusConfirmed, t0.Add(-3*time.Hour), "SM_A", "pi_A")
	newerConfirmed := mk(phone, bookings.StatusConfirmed, t0.Add(-time.Hour), "", "")
	mk(phone, bookings.StatusCancelled, t0, "SM_C", "pi_C")
	mk(phone, bookings.StatusPaymentPending, t0.Add(time.Hour), "", "pi_D")
	otherPhone := mk(other, bookings.StatusConfirmed, t0.Add(2*time.Hour), "", "")
	if err := s.SetSMSMessageSID(t.Context(), newerConfirmed.ID, "SM_B"); err != nil {
		t.Fatalf("SetSMSMessageSID: %v", err)
	}

	tests := []struct {
		name   string
		find   func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error)
		wantID int64 // 0: ErrNotFound
	}{
		{"sms sid", bySID("SM_A"), olderConfirmed.ID},
		{"sms sid set later", bySID("SM_B"), newerConfirmed.ID},
		{"unknown sms sid", bySID("SM_X"), 0},
		{"empty sms sid", bySID(""), 0},
		{"newest confirmed", byPhone(phone), newerConfirmed.ID},
		{"newest confirmed, other phone", byPhone(other), otherPhone.ID},
		{"no confirmed booking", byPhone("+15550000000"), 0},
		{"payment intent", byPI("pi_A"), olderConfirmed.ID},
		{"unknown payment intent", byPI("pi_X"), 0},
		{"empty payment intent", byPI(""), 0},
		{"id", byID(otherPhone.ID), otherPhone.ID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got bookings.Booking
			err := s.Run(t.Context(), func(ctx context.Context, tx bookings.Tx) error {
				var err error
				got, err = tt.find(ctx, tx)
				return err
			})
			if tt.wantID == 0 {
				if !errors.Is(err, bookings.ErrNotFound) {
					t.Errorf("error = %v, want ErrNotFound", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			diff(t, "booking", mustGet(t, s, tt.wantID), got)
		})
	}
}

func byID(id int64) func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error) {
	return func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error) {
		return tx.BookingForUpdate(ctx, id)
	}
}

func bySID(sid string) func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error) {
	return func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error) {
		return tx.BookingBySMSSID(ctx, sid)
	}
}

func byPhone(phone string) func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error) {
	return func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error) {
		return tx.NewestConfirmedByPhone(ctx, phone)
	}
}

func byPI(pi string) func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error) {
	return func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error) {
		return tx.BookingByPaymentIntent(ctx, pi)
	}
}
