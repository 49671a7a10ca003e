package sqldb

import (
	"context"
	"fmt"

	"github.com/reserveeasy/gateway/bookings"
)

var _ bookings.History = (*Store)(nil)

// maxTimelineEvents bounds the events one timeline shows: a booking has a
// handful; a runaway sender should not make the page unbounded.
const maxTimelineEvents = 1000

// Timeline returns booking id with its events, transactions and messages,
// in order, or bookings.ErrNotFound. The reads are not one snapshot: a
// worker applying an event meanwhile may show in one list and not yet in
// another.
func (s *Store) Timeline(ctx context.Context, id int64) (bookings.Timeline, error) {
	b, err := s.Booking(ctx, id)
	if err != nil {
		return bookings.Timeline{}, err
	}
	evs, err := s.listEvents(ctx, `SELECT source, event_id, type, received_at, processed_at, booking_id, outcome
		FROM webhook_events WHERE booking_id = ? ORDER BY received_at, id LIMIT ?`, id, maxTimelineEvents)
	if err != nil {
		return bookings.Timeline{}, fmt.Errorf("list events of booking %d: %w", id, err)
	}
	txs, err := s.Transactions(ctx, id)
	if err != nil {
		return bookings.Timeline{}, err
	}
	ns, err := s.Notifications(ctx, id)
	if err != nil {
		return bookings.Timeline{}, err
	}
	return bookings.NewTimeline(b, evs, txs, ns), nil
}

// NotificationsByProviderID lists the notifications the provider knows as
// providerID, oldest first.
func (s *Store) NotificationsByProviderID(ctx context.Context, providerID string) ([]bookings.Notification, error) {
	out, err := s.listNotifications(ctx, "provider_id = ?", providerID)
	if err != nil {
		return nil, fmt.Errorf("list notifications of provider id %q: %w", providerID, err)
	}
	return out, nil
}
