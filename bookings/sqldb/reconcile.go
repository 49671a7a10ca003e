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

// ReconcilePoint returns reconcile_state.cursor_at of source, or the zero
// time when there is none.
func (s *Store) ReconcilePoint(ctx context.Context, source string) (time.Time, error) {
	var at time.Time
	err := s.conn().queryRow(ctx, "SELECT cursor_at FROM reconcile_state WHERE source = ?", source).Scan(nullTime{&at})
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("read reconcile point of %s: %w", source, err)
	}
	return at, nil
}

// SetReconcilePoint stores at as the reconcile point of source.
func (s *Store) SetReconcilePoint(ctx context.Context, source string, at time.Time) error {
	_, err := s.conn().exec(ctx, `INSERT INTO reconcile_state (source, cursor_at, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (source) DO UPDATE SET cursor_at = excluded.cursor_at, updated_at = excluded.updated_at`,
		source, at, time.Now())
	if err != nil {
		return fmt.Errorf("store reconcile point of %s: %w", source, err)
	}
	return nil
}

// ExpiredHolds lists the unpaid payment_pending bookings whose hold
// expired before before and that were never cancelled.
func (s *Store) ExpiredHolds(ctx context.Context, before time.Time) ([]bookings.Booking, error) {
	out, err := s.listBookings(ctx, `status = ? AND deposit_paid = ? AND cancelled_at IS NULL
		AND hold_expires_at IS NOT NULL AND hold_expires_at < ? ORDER BY hold_expires_at, id`,
		string(bookings.StatusPaymentPending), false, before)
	if err != nil {
		return nil, fmt.Errorf("list expired holds: %w", err)
	}
	return out, nil
}

// UnfinishedSMS lists the bookings whose Twilio SMS was sent within
// (after, before) and has no final status yet.
func (s *Store) UnfinishedSMS(ctx context.Context, after, before time.Time) ([]bookings.Booking, error) {
	final := strings.TrimSuffix(strings.Repeat("?, ", len(bookings.FinalSMSStatuses)), ", ")
	args := []any{}
	for _, f := range bookings.FinalSMSStatuses {
		args = append(args, f)
	}
	sent := `COALESCE((SELECT MAX(n.sent_at) FROM notifications n
		WHERE n.channel = 'sms' AND n.provider_id = bookings.sms_message_sid), bookings.updated_at)`
	out, err := s.listBookings(ctx, `sms_message_sid LIKE 'SM%'
		AND (sms_status IS NULL OR sms_status NOT IN (`+final+`))
		AND `+sent+` > ? AND `+sent+` < ? ORDER BY `+sent+`, id`,
		append(args, after, before)...)
	if err != nil {
		return nil, fmt.Errorf("list unfinished sms: %w", err)
	}
	return out, nil
}

// listBookings runs a SELECT of bookings with the condition where (and
// ORDER BY).
func (s *Store) listBookings(ctx context.Context, where string, args ...any) ([]bookings.Booking, error) {
	rows, err := s.conn().query(ctx, "SELECT "+bookingColumns+" FROM bookings WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bookings.Booking
	for rows.Next() {
		b, err := scanBooking(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}
