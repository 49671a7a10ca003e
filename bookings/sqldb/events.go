package sqldb

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/reserveeasy/gateway/bookings"
)

// defaultEventLimit is how many events Events returns when the filter sets
// no limit.
const defaultEventLimit = 50

// insertEvent records ev in webhook_events unless it is there already. It
// reports whether it inserted. On PostgreSQL a concurrent insert of the same
// (source, event_id) waits here until the other transaction ends.
func insertEvent(ctx context.Context, c conn, ev bookings.Event) (bool, error) {
	received := ev.ReceivedAt
	if received.IsZero() {
		received = time.Now()
	}
	res, err := c.exec(ctx, `INSERT INTO webhook_events (source, event_id, type, received_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (source, event_id) DO NOTHING`,
		ev.Source, ev.ID, ev.Type, received)
	if err != nil {
		return false, fmt.Errorf("record event: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("record event: count rows: %w", err)
	}
	return n > 0, nil
}

// finishEvent stores what applying ev did.
func finishEvent(ctx context.Context, c conn, ev bookings.Event, res bookings.Result, now time.Time) error {
	var bookingID any
	if res.BookingID != 0 {
		bookingID = res.BookingID
	}
	err := c.execOne(ctx, `UPDATE webhook_events SET processed_at = ?, booking_id = ?, outcome = ?
		WHERE source = ? AND event_id = ?`,
		now, bookingID, text(res.Outcome), ev.Source, ev.ID)
	if err != nil {
		return fmt.Errorf("mark event processed: %w", err)
	}
	return nil
}

// Events lists webhook_events, newest first, filtered by f.
func (s *Store) Events(ctx context.Context, f bookings.EventFilter) ([]bookings.EventRecord, error) {
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Source != "" {
		add("source = ?", f.Source)
	}
	if f.Type != "" {
		add("type = ?", f.Type)
	}
	if f.EventID != "" {
		add("event_id = ?", f.EventID)
	}
	if f.EventIDPrefix != "" {
		// substr, not LIKE: no wildcards to escape, and case-sensitive on
		// SQLite too.
		where = append(where, "substr(event_id, 1, ?) = ?")
		args = append(args, utf8.RuneCountInString(f.EventIDPrefix), f.EventIDPrefix)
	}
	if f.BookingID != 0 {
		add("booking_id = ?", f.BookingID)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultEventLimit
	}
	q := "SELECT source, event_id, type, received_at, processed_at, booking_id, outcome FROM webhook_events"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY received_at DESC, id DESC LIMIT ?"
	out, err := s.listEvents(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("list events: %w", err)
	}
	return out, nil
}

func (s *Store) listEvents(ctx context.Context, q string, args ...any) ([]bookings.EventRecord, error) {
	rows, err := s.conn().query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []bookings.EventRecord
	for rows.Next() {
		var e bookings.EventRecord
		var bookingID *int64
		err := rows.Scan(nullText{&e.Source}, nullText{&e.ID}, nullText{&e.Type},
			nullTime{&e.ReceivedAt}, nullTime{&e.ProcessedAt}, &bookingID, nullText{&e.Outcome})
		if err != nil {
			return nil, err
		}
		if bookingID != nil {
			e.BookingID = *bookingID
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
