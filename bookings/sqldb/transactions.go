package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

const transactionColumns = `id, booking_id, kind, amount, currency, stripe_object_id,
	stripe_event_id, created_at`

func scanTransaction(sc scanner) (bookings.Transaction, error) {
	var t bookings.Transaction
	err := sc.Scan(&t.ID, &t.BookingID, nullText{(*string)(&t.Kind)}, &t.Amount,
		nullText{&t.Currency}, nullText{&t.StripeObjectID}, nullText{&t.StripeEventID},
		nullTime{&t.CreatedAt})
	return t, err
}

// AddTransaction inserts t and returns it with its id (and CreatedAt, now
// when zero).
func (x *tx) AddTransaction(ctx context.Context, t bookings.Transaction) (bookings.Transaction, error) {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now()
	}
	t.CreatedAt = Time(t.CreatedAt)
	err := x.c.queryRow(ctx, `INSERT INTO transactions
		(booking_id, kind, amount, currency, stripe_object_id, stripe_event_id, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.BookingID, string(t.Kind), t.Amount, t.Currency, text(t.StripeObjectID),
		text(t.StripeEventID), t.CreatedAt).Scan(&t.ID)
	if err != nil {
		return bookings.Transaction{}, fmt.Errorf("insert %s transaction for booking %d: %w", t.Kind, t.BookingID, err)
	}
	return t, nil
}

// SumTransactions returns the total amount of kind recorded for a Stripe
// object.
func (x *tx) SumTransactions(ctx context.Context, kind bookings.TxKind, stripeObjectID string) (int64, error) {
	var sum int64
	err := x.c.queryRow(ctx, `SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM transactions
		WHERE kind = ? AND stripe_object_id = ?`, string(kind), stripeObjectID).Scan(&sum)
	if err != nil {
		return 0, fmt.Errorf("sum %s transactions of %q: %w", kind, stripeObjectID, err)
	}
	return sum, nil
}

// Transactions lists a booking's transactions, oldest first.
func (s *Store) Transactions(ctx context.Context, bookingID int64) ([]bookings.Transaction, error) {
	rows, err := s.conn().query(ctx, "SELECT "+transactionColumns+
		" FROM transactions WHERE booking_id = ? ORDER BY created_at, id", bookingID)
	if err != nil {
		return nil, fmt.Errorf("list transactions of booking %d: %w", bookingID, err)
	}
	defer rows.Close()
	var out []bookings.Transaction
	for rows.Next() {
		t, err := scanTransaction(rows)
		if err != nil {
			return nil, fmt.Errorf("read transaction of booking %d: %w", bookingID, err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list transactions of booking %d: %w", bookingID, err)
	}
	return out, nil
}
