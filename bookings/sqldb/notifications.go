package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

const notificationColumns = `id, booking_id, channel, template, recipient, status,
	provider_id, created_at, sent_at, notification_key, subject, body, html,
	attempts, last_error`

func scanNotification(sc scanner) (bookings.Notification, error) {
	var n bookings.Notification
	err := sc.Scan(&n.ID, &n.BookingID, nullText{(*string)(&n.Channel)},
		nullText{&n.Template}, nullText{&n.Recipient}, nullText{(*string)(&n.Status)},
		nullText{&n.ProviderID}, nullTime{&n.CreatedAt}, nullTime{&n.SentAt},
		nullText{&n.Key}, nullText{&n.Subject}, nullText{&n.Body}, nullText{&n.HTML},
		&n.Attempts, nullText{&n.LastError})
	return n, err
}

// AddNotification inserts n as pending, with no attempts, unless a
// notification with the same Key exists. It reports whether it inserted.
func (x *tx) AddNotification(ctx context.Context, n bookings.Notification) (bool, error) {
	if n.Key == "" {
		return false, fmt.Errorf("add %s notification for booking %d: key is empty", n.Channel, n.BookingID)
	}
	if n.CreatedAt.IsZero() {
		n.CreatedAt = time.Now()
	}
	res, err := x.c.exec(ctx, `INSERT INTO notifications
		(booking_id, channel, template, recipient, status, created_at,
		 notification_key, subject, body, html, attempts)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
		ON CONFLICT (notification_key) DO NOTHING`,
		n.BookingID, string(n.Channel), n.Template, n.Recipient,
		string(bookings.NotificationPending), n.CreatedAt, n.Key,
		text(n.Subject), text(n.Body), text(n.HTML))
	if err != nil {
		return false, fmt.Errorf("add notification %q: %w", n.Key, err)
	}
	inserted, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("add notification %q: count rows: %w", n.Key, err)
	}
	return inserted > 0, nil
}

// listNotifications runs a SELECT of notifications with the condition where.
func (s *Store) listNotifications(ctx context.Context, where string, args ...any) ([]bookings.Notification, error) {
	rows, err := s.conn().query(ctx, "SELECT "+notificationColumns+
		" FROM notifications WHERE "+where+" ORDER BY created_at, id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bookings.Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// Notifications lists a booking's notifications, oldest first.
func (s *Store) Notifications(ctx context.Context, bookingID int64) ([]bookings.Notification, error) {
	out, err := s.listNotifications(ctx, "booking_id = ?", bookingID)
	if err != nil {
		return nil, fmt.Errorf("list notifications of booking %d: %w", bookingID, err)
	}
	return out, nil
}

// NotificationsByKeyPrefix lists the notifications whose Key starts with
// prefix (case-sensitively), oldest first.
func (s *Store) NotificationsByKeyPrefix(ctx context.Context, prefix string) ([]bookings.Notification, error) {
	cond, arg := s.d.keyPrefix("notification_key", prefix)
	out, err := s.listNotifications(ctx, cond, arg)
	if err != nil {
		return nil, fmt.Errorf("list notifications with key prefix %q: %w", prefix, err)
	}
	return out, nil
}

// ClaimNotification marks a pending or unknown notification, or one claimed longer
// than lease ago and not finished, as sending and counts the attempt. The
// claim's time and its staleness are judged on the database's clock. It
// reports false when the notification is held by another worker, is done,
// or does not exist.
func (s *Store) ClaimNotification(ctx context.Context, id int64, lease time.Duration) (bookings.Claim, bool, error) {
	c := bookings.Claim{}
	err := s.conn().queryRow(ctx, `UPDATE notifications
		SET status = ?, attempts = attempts + 1, claimed_at = `+s.d.now()+`
		WHERE id = ? AND (status IN (?, ?)
			OR (status = ? AND (claimed_at IS NULL OR claimed_at < `+s.d.nowMinus()+`)))
		RETURNING attempts, claimed_at`,
		string(bookings.NotificationSending), id,
		string(bookings.NotificationPending), string(bookings.NotificationUnknown),
		string(bookings.NotificationSending), s.d.durationArg(lease),
	).Scan(&c.Attempt, nullTime{&c.At})
	if errors.Is(err, sql.ErrNoRows) {
		return bookings.Claim{}, false, nil
	}
	if err != nil {
		return bookings.Claim{}, false, fmt.Errorf("claim notification %d: %w", id, err)
	}
	return c, true, nil
}

// FinishNotification records the outcome of the claim c: its status,
// provider id and last error are set to the values given (empty ones to
// NULL), sent_at to the database's time when the status is sent or logged,
// and the claim is released. A claim that expired and was taken over gives
// bookings.ErrClaimLost.
func (s *Store) FinishNotification(ctx context.Context, id int64, c bookings.Claim, status bookings.NotificationStatus, providerID, lastErr string) error {
	sentAt := "NULL"
	if status == bookings.NotificationSent || status == bookings.NotificationLogged {
		sentAt = s.d.now()
	}
	err := s.conn().execOne(ctx, `UPDATE notifications
		SET status = ?, provider_id = ?, sent_at = `+sentAt+`, last_error = ?, claimed_at = NULL
		WHERE id = ? AND status = ? AND attempts = ?`,
		string(status), text(providerID), text(lastErr), id, string(bookings.NotificationSending), c.Attempt)
	if errors.Is(err, sql.ErrNoRows) {
		err = bookings.ErrClaimLost
	}
	if err != nil {
		return fmt.Errorf("finish notification %d as %s: %w", id, status, err)
	}
	return nil
}
