package bookings

import (
	"context"
	"fmt"
	"sort"
	"time"
)

// History answers the operator's questions about what happened: a
// booking's whole story, and the messages a provider knows by its id.
// bookings/postgres and bookings/sqlite implement it (bookings/sqldb).
type History interface {
	// Timeline returns booking id and everything that happened to it, in
	// order, or ErrNotFound.
	Timeline(ctx context.Context, id int64) (Timeline, error)
	// NotificationsByProviderID lists the notifications the provider knows
	// as providerID (a Twilio MessageSid), oldest first.
	NotificationsByProviderID(ctx context.Context, providerID string) ([]Notification, error)
}

// Timeline is one booking and what happened to it, oldest first.
type Timeline struct {
	Booking Booking
	Entries []Entry
}

// EntryKind is what a timeline entry is about.
type EntryKind string

// Kinds of timeline entries.
const (
	EntryCreated     EntryKind = "created"     // the app inserted the booking
	EntryEvent       EntryKind = "event"       // a webhook event was applied
	EntryTransaction EntryKind = "transaction" // money moved (transactions)
	EntryMessage     EntryKind = "message"     // a message was written (notifications)
	EntryTransition  EntryKind = "transition"  // a booking column changed
	EntryHold        EntryKind = "hold"        // an auto-cancel is due
)

// Entry is one thing that happened to a booking. Exactly one of Event,
// Transaction and Notification is set for the kinds of the same name;
// Transition and Hold entries carry only What.
type Entry struct {
	At           time.Time
	Kind         EntryKind
	What         string
	Event        *EventRecord
	Transaction  *Transaction
	Notification *Notification
}

// NewTimeline orders what is known of booking b: its events, transactions
// and messages, and the transitions its columns record (paid, SMS
// delivered, refunded, cancelled) and a running hold.
func NewTimeline(b Booking, evs []EventRecord, txs []Transaction, ns []Notification) Timeline {
	t := Timeline{Booking: b}
	add := func(e Entry) {
		if !e.At.IsZero() {
			t.Entries = append(t.Entries, e)
		}
	}
	add(Entry{At: b.CreatedAt, Kind: EntryCreated, What: "booking created"})
	for i := range evs {
		ev := &evs[i]
		// At its receipt: before the rows its transaction wrote (whose
		// times come before its processed_at).
		at := ev.ReceivedAt
		if at.IsZero() {
			at = ev.ProcessedAt
		}
		add(Entry{At: at, Kind: EntryEvent, What: ev.Source + " " + ev.Type + ": " + outcomeOrPending(ev), Event: ev})
	}
	for i := range txs {
		tx := &txs[i]
		add(Entry{At: tx.CreatedAt, Kind: EntryTransaction, What: string(tx.Kind), Transaction: tx})
	}
	for i := range ns {
		n := &ns[i]
		add(Entry{At: n.CreatedAt, Kind: EntryMessage, What: fmt.Sprintf("%s %s: %s", n.Channel, n.Template, n.Status), Notification: n})
	}
	add(Entry{At: b.DepositPaidAt, Kind: EntryTransition, What: "deposit paid" + suffix(" (", b.StripePaymentIntentID, ")")})
	add(Entry{At: b.SMSDeliveredAt, Kind: EntryTransition, What: "confirmation SMS delivered"})
	add(Entry{At: b.RefundedAt, Kind: EntryTransition, What: "deposit fully refunded"})
	add(Entry{At: b.CancelledAt, Kind: EntryTransition, What: "cancelled" + suffix(" (", b.CancelReason, ")")})
	if b.Status == StatusPaymentPending {
		add(Entry{At: b.HoldExpiresAt, Kind: EntryHold, What: "auto-cancel due unless the deposit is paid"})
	}
	// Stable: entries at the same instant keep the order above (the event
	// before the rows it wrote).
	sort.SliceStable(t.Entries, func(i, j int) bool { return t.Entries[i].At.Before(t.Entries[j].At) })
	return t
}

func outcomeOrPending(ev *EventRecord) string {
	if ev.ProcessedAt.IsZero() {
		return "not processed"
	}
	if ev.Outcome == "" {
		return "applied"
	}
	return ev.Outcome
}

func suffix(open, s, closing string) string {
	if s == "" {
		return ""
	}
	return open + s + closing
}
