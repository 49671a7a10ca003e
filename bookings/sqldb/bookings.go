package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

// bookingColumns are the columns of bookings every read returns, in the
// order scanBooking expects.
const bookingColumns = `id, customer_name, customer_phone, customer_email, status,
	created_at, updated_at, sms_message_sid, sms_status, sms_delivered,
	sms_delivered_at, deposit_amount, deposit_currency, deposit_paid,
	deposit_paid_at, stripe_payment_intent_id, deposit_refunded, refunded_at,
	cancelled_at, cancel_reason, hold_expires_at`

// writableColumns are the columns CreateBooking and UpdateBooking write
// besides the timestamps, in the order of writableArgs.
var writableColumns = []string{
	"customer_name", "customer_phone", "customer_email", "status",
	"sms_message_sid", "sms_status", "sms_delivered", "sms_delivered_at",
	"deposit_amount", "deposit_currency", "deposit_paid", "deposit_paid_at",
	"stripe_payment_intent_id", "deposit_refunded", "refunded_at",
	"cancelled_at", "cancel_reason", "hold_expires_at",
}

func writableArgs(b bookings.Booking) []any {
	return []any{
		b.CustomerName, b.CustomerPhone, text(b.CustomerEmail), string(b.Status),
		text(b.SMSMessageSID), text(b.SMSStatus), b.SMSDelivered, b.SMSDeliveredAt,
		b.DepositAmount, b.DepositCurrency, b.DepositPaid, b.DepositPaidAt,
		text(b.StripePaymentIntentID), b.DepositRefunded, b.RefundedAt,
		b.CancelledAt, text(b.CancelReason), b.HoldExpiresAt,
	}
}

var (
	insertBookingSQL = "INSERT INTO bookings (" + strings.Join(writableColumns, ", ") +
		", created_at, updated_at) VALUES (" +
		strings.TrimSuffix(strings.Repeat("?, ", len(writableColumns)+2), ", ") +
		") RETURNING id"
	updateBookingSQL = "UPDATE bookings SET " + strings.Join(writableColumns, " = ?, ") +
		" = ?, updated_at = ? WHERE id = ?"
)

func scanBooking(sc scanner) (bookings.Booking, error) {
	var b bookings.Booking
	err := sc.Scan(&b.ID, nullText{&b.CustomerName}, nullText{&b.CustomerPhone},
		nullText{&b.CustomerEmail}, nullText{(*string)(&b.Status)},
		nullTime{&b.CreatedAt}, nullTime{&b.UpdatedAt}, nullText{&b.SMSMessageSID},
		nullText{&b.SMSStatus}, &b.SMSDelivered, nullTime{&b.SMSDeliveredAt},
		&b.DepositAmount, nullText{&b.DepositCurrency}, &b.DepositPaid,
		nullTime{&b.DepositPaidAt}, nullText{&b.StripePaymentIntentID},
		&b.DepositRefunded, nullTime{&b.RefundedAt}, nullTime{&b.CancelledAt},
		nullText{&b.CancelReason}, nullTime{&b.HoldExpiresAt})
	return b, err
}

// getBooking reads one booking. where is the condition after WHERE (and any
// ORDER BY); lock adds the dialect's FOR UPDATE.
func getBooking(ctx context.Context, c conn, lock bool, where string, args ...any) (bookings.Booking, error) {
	q := "SELECT " + bookingColumns + " FROM bookings WHERE " + where
	if lock {
		q += c.d.forUpdate()
	}
	b, err := scanBooking(c.queryRow(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return bookings.Booking{}, bookings.ErrNotFound
	}
	return b, err
}

// CreateBooking inserts b and returns it as stored. An empty status is
// stored as confirmed, an empty currency as usd, zero CreatedAt and
// UpdatedAt as now.
func (s *Store) CreateBooking(ctx context.Context, b bookings.Booking) (bookings.Booking, error) {
	if b.Status == "" {
		b.Status = bookings.StatusConfirmed
	}
	if b.DepositCurrency == "" {
		b.DepositCurrency = "usd"
	}
	now := time.Now()
	if b.CreatedAt.IsZero() {
		b.CreatedAt = now
	}
	if b.UpdatedAt.IsZero() {
		b.UpdatedAt = b.CreatedAt
	}
	args := append(writableArgs(b), b.CreatedAt, b.UpdatedAt)
	var id int64
	if err := s.conn().queryRow(ctx, insertBookingSQL, args...).Scan(&id); err != nil {
		return bookings.Booking{}, fmt.Errorf("insert booking: %w", err)
	}
	got, err := s.Booking(ctx, id)
	if err != nil {
		return bookings.Booking{}, fmt.Errorf("read back new booking: %w", err)
	}
	return got, nil
}

// Booking returns the booking with id, or an error wrapping
// bookings.ErrNotFound.
func (s *Store) Booking(ctx context.Context, id int64) (bookings.Booking, error) {
	b, err := getBooking(ctx, s.conn(), false, "id = ?", id)
	if err != nil {
		return bookings.Booking{}, fmt.Errorf("get booking %d: %w", id, err)
	}
	return b, nil
}

// SetSMSMessageSID stores the sid of the confirmation SMS of a booking.
func (s *Store) SetSMSMessageSID(ctx context.Context, bookingID int64, sid string) error {
	err := s.conn().execOne(ctx, "UPDATE bookings SET sms_message_sid = ?, updated_at = ? WHERE id = ?",
		text(sid), time.Now(), bookingID)
	if errors.Is(err, sql.ErrNoRows) {
		err = bookings.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("set sms sid of booking %d: %w", bookingID, err)
	}
	return nil
}

// BookingForUpdate returns the booking with id and locks it until the
// transaction ends.
func (t *tx) BookingForUpdate(ctx context.Context, id int64) (bookings.Booking, error) {
	b, err := getBooking(ctx, t.c, true, "id = ?", id)
	if err != nil {
		return bookings.Booking{}, fmt.Errorf("lock booking %d: %w", id, err)
	}
	return b, nil
}

// BookingBySMSSID returns and locks the booking whose sms_message_sid is sid.
func (t *tx) BookingBySMSSID(ctx context.Context, sid string) (bookings.Booking, error) {
	b, err := getBooking(ctx, t.c, true, "sms_message_sid = ? ORDER BY id DESC LIMIT 1", sid)
	if err != nil {
		return bookings.Booking{}, fmt.Errorf("find booking by sms sid %q: %w", sid, err)
	}
	return b, nil
}

// NewestConfirmedByPhone returns and locks the most recently created
// confirmed booking whose customer_phone is phone.
func (t *tx) NewestConfirmedByPhone(ctx context.Context, phone string) (bookings.Booking, error) {
	b, err := getBooking(ctx, t.c, true,
		"customer_phone = ? AND status = ? ORDER BY created_at DESC, id DESC LIMIT 1",
		phone, string(bookings.StatusConfirmed))
	if err != nil {
		return bookings.Booking{}, fmt.Errorf("find newest confirmed booking for the phone number: %w", err)
	}
	return b, nil
}

// BookingByPaymentIntent returns and locks the booking whose
// stripe_payment_intent_id is pi.
func (t *tx) BookingByPaymentIntent(ctx context.Context, pi string) (bookings.Booking, error) {
	b, err := getBooking(ctx, t.c, true, "stripe_payment_intent_id = ? ORDER BY id DESC LIMIT 1", pi)
	if err != nil {
		return bookings.Booking{}, fmt.Errorf("find booking by payment intent %q: %w", pi, err)
	}
	return b, nil
}

// UpdateBooking writes every column of b except id and created_at, and sets
// updated_at to now.
func (t *tx) UpdateBooking(ctx context.Context, b bookings.Booking, now time.Time) error {
	args := append(writableArgs(b), now, b.ID)
	err := t.c.execOne(ctx, updateBookingSQL, args...)
	if errors.Is(err, sql.ErrNoRows) {
		err = bookings.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("update booking %d: %w", b.ID, err)
	}
	return nil
}
