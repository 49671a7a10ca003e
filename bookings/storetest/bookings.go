package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

// nullColumnsSQL counts the booking %d when every nullable column is NULL
// and every flag false.
const nullColumnsSQL = `SELECT COUNT(*) FROM bookings WHERE id = %d
	AND customer_email IS NULL AND sms_message_sid IS NULL AND sms_status IS NULL
	AND sms_delivered_at IS NULL AND deposit_paid_at IS NULL
	AND stripe_payment_intent_id IS NULL AND refunded_at IS NULL
	AND cancelled_at IS NULL AND cancel_reason IS NULL AND hold_expires_at IS NULL
	AND NOT sms_delivered AND NOT deposit_paid AND NOT deposit_refunded`

func testCreateAndGet(t *testing.T, s bookings.Store) {
	cet := time.FixedZone("CET", 3600)
	full := fullBooking()
	// Other zones are stored in UTC, nanoseconds dropped.
	full.SMSDeliveredAt = t0.In(cet).Add(789 * time.Nanosecond)
	tests := []struct {
		name      string
		in        bookings.Booking
		want      bookings.Booking // ID, and zero CreatedAt/UpdatedAt, filled in
		allNull   bool
		stampedAt bool // the store sets CreatedAt and UpdatedAt
	}{
		{
			name: "minimal",
			in:   minimalBooking("+15550002222"),
			want: bookings.Booking{CustomerName: "Grace Hopper", CustomerPhone: "+15550002222",
				Status: bookings.StatusConfirmed, DepositCurrency: "usd"},
			allNull:   true,
			stampedAt: true,
		},
		{name: "full", in: full, want: func() bookings.Booking {
			w := fullBooking()
			w.SMSDeliveredAt = t0
			return w
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := time.Now()
			created := mustCreate(t, s, tt.in)
			if created.ID == 0 {
				t.Fatal("CreateBooking returned ID 0")
			}
			want := tt.want
			want.ID = created.ID
			if tt.stampedAt {
				checkNear(t, "CreatedAt", created.CreatedAt, before, time.Minute)
				diff(t, "UpdatedAt", created.CreatedAt, created.UpdatedAt)
				want.CreatedAt, want.UpdatedAt = created.CreatedAt, created.UpdatedAt
			}
			diff(t, "CreateBooking", want, created)
			got := mustGet(t, s, created.ID)
			diff(t, "Booking", want, got)
			checkTimesUTC(t, got)
			if tt.allNull && rawInt(t, s, nullColumnsSQL, created.ID) != 1 {
				t.Error("empty strings and zero times are not stored as NULL")
			}
		})
	}
}

// testCreateErrorHidesCustomer: a refused insert's error (which ends up in
// logs and in the queue's last error) names none of the customer's data.
func testCreateErrorHidesCustomer(t *testing.T, s bookings.Store) {
	b := bookings.Booking{CustomerName: "Ada Lovelace", CustomerPhone: "+15559876543",
		CustomerEmail: "ada@example.com", Status: "no_such_status", DepositAmount: 6000, DepositCurrency: "usd"}
	_, err := s.CreateBooking(t.Context(), b)
	if err == nil {
		t.Fatal("CreateBooking with an unknown status succeeded")
	}
	for _, p := range []string{b.CustomerName, b.CustomerPhone, "5559876543", b.CustomerEmail} {
		if strings.Contains(err.Error(), p) {
			t.Errorf("CreateBooking error shows %q: %v", p, err)
		}
	}
}

func testNotFound(t *testing.T, s bookings.Store) {
	const missing = 424242
	find := func(fn func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error)) func(context.Context) error {
		return func(ctx context.Context) error {
			return s.Run(ctx, func(ctx context.Context, tx bookings.Tx) error { _, err := fn(ctx, tx); return err })
		}
	}
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Booking", func(ctx context.Context) error { _, err := s.Booking(ctx, missing); return err }},
		{"SetSMSMessageSID", func(ctx context.Context) error { return s.SetSMSMessageSID(ctx, missing, "SM1") }},
		{"BookingForUpdate", find(byID(missing))},
		{"BookingBySMSSID", find(bySID("SMnone"))},
		{"NewestConfirmedByPhone", find(byPhone("+1555"))},
		{"BookingByPaymentIntent", find(byPI("pi_none"))},
		{"UpdateBooking", func(ctx context.Context) error {
			b := fullBooking()
			b.ID = missing
			return s.Run(ctx, func(ctx context.Context, tx bookings.Tx) error { return tx.UpdateBooking(ctx, b, t0) })
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.call(t.Context()); !errors.Is(err, bookings.ErrNotFound) {
				t.Errorf("error = %v, want ErrNotFound", err)
			}
		})
	}
}

func testPlainSQLInsert(t *testing.T, s bookings.Store) {
	const cols = `INSERT INTO bookings (customer_name, customer_phone, customer_email, status, deposit_amount, deposit_currency`
	tests := []struct {
		name    string
		sql     string
		created time.Time // zero: about now
	}{
		{"defaults", cols + `) VALUES ('Plain Ann', '+15550003333', 'ann@example.com', 'payment_pending', 6000, 'eur') RETURNING id`, time.Time{}},
		{"current timestamp", cols + `, created_at, updated_at) VALUES ('Plain Ann', '+15550003333', 'ann@example.com',
			'payment_pending', 6000, 'eur', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP) RETURNING id`, time.Time{}},
		{"ISO 8601 text", cols + `, created_at, updated_at) VALUES ('Plain Ann', '+15550003333', 'ann@example.com',
			'payment_pending', 6000, 'eur', '2025-01-02T03:04:05Z', '2025-01-02T03:04:05Z') RETURNING id`,
			time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var id int64
			if err := rawDB(t, s).QueryRowContext(t.Context(), tt.sql).Scan(&id); err != nil {
				t.Fatalf("insert with plain SQL: %v", err)
			}
			got := mustGet(t, s, id)
			want := bookings.Booking{ID: id, CustomerName: "Plain Ann", CustomerPhone: "+15550003333",
				CustomerEmail: "ann@example.com", Status: bookings.StatusPaymentPending,
				DepositAmount: 6000, DepositCurrency: "eur", CreatedAt: tt.created, UpdatedAt: tt.created}
			if tt.created.IsZero() {
				checkNear(t, "CreatedAt", got.CreatedAt, time.Now(), 5*time.Minute)
				checkNear(t, "UpdatedAt", got.UpdatedAt, time.Now(), 5*time.Minute)
				want.CreatedAt, want.UpdatedAt = got.CreatedAt, got.UpdatedAt
			}
			diff(t, "Booking", want, got)
			checkTimesUTC(t, got)
			// The row can be changed through the store like any other.
			got.SMSStatus = "sent"
			run(t, s, func(ctx context.Context, tx bookings.Tx) error { return tx.UpdateBooking(ctx, got, t0) })
			if b := mustGet(t, s, id); b.SMSStatus != "sent" {
				t.Errorf("after UpdateBooking, SMSStatus = %q, want sent", b.SMSStatus)
			}
		})
	}
	t.Run("ordered with store rows", func(t *testing.T) {
		testPlainSQLOrder(t, s)
	})
}

// testPlainSQLOrder checks rows stamped by the database's defaults and rows
// written by the store sort by created_at together.
func testPlainSQLOrder(t *testing.T, s bookings.Store) {
	const phone = "+15550004444"
	older := minimalBooking(phone)
	older.CreatedAt = time.Now().Add(-time.Hour)
	mustCreate(t, s, older)
	var plainID int64
	err := rawDB(t, s).QueryRowContext(t.Context(), `INSERT INTO bookings
		(customer_name, customer_phone, status) VALUES ('Plain Ben', '`+phone+`', 'confirmed') RETURNING id`).Scan(&plainID)
	if err != nil {
		t.Fatalf("insert with plain SQL: %v", err)
	}
	newest := func() int64 {
		var id int64
		run(t, s, func(ctx context.Context, tx bookings.Tx) error {
			b, err := tx.NewestConfirmedByPhone(ctx, phone)
			id = b.ID
			return err
		})
		return id
	}
	if got := newest(); got != plainID {
		t.Errorf("newest confirmed = booking %d, want %d (inserted with plain SQL after the store's)", got, plainID)
	}
	newer := minimalBooking(phone)
	newer.CreatedAt = time.Now().Add(time.Hour)
	newer = mustCreate(t, s, newer)
	if got := newest(); got != newer.ID {
		t.Errorf("newest confirmed = booking %d, want %d (created by the store after the plain one)", got, newer.ID)
	}
}
