package bookings

import (
	"context"
	"time"
)

// Store is where bookings, transactions, webhook events and notifications
// live. bookings/postgres and bookings/sqlite implement it; both pass the
// conformance suite in bookings/storetest.
type Store interface {
	// Apply runs fn in one database transaction that also records ev in
	// webhook_events (with processed_at, the booking id and outcome fn
	// returns). When ev is already recorded, fn does not run and Apply
	// returns ErrAlreadyApplied. When fn fails, nothing is written.
	Apply(ctx context.Context, ev Event, fn func(ctx context.Context, tx Tx) (Result, error)) error

	// Run runs fn in one database transaction without recording an event
	// (for scheduled work such as auto-cancel, made idempotent by its own
	// guards).
	Run(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error

	// CreateBooking inserts b (customer fields, status, deposit) and returns
	// it as stored, with its id and timestamps.
	CreateBooking(ctx context.Context, b Booking) (Booking, error)
	// Booking returns the booking with id, or ErrNotFound.
	Booking(ctx context.Context, id int64) (Booking, error)
	// SetSMSMessageSID stores the sid of the confirmation SMS sent for a
	// booking.
	SetSMSMessageSID(ctx context.Context, bookingID int64, sid string) error

	// Transactions lists a booking's transactions, oldest first.
	Transactions(ctx context.Context, bookingID int64) ([]Transaction, error)
	// Notifications lists a booking's notifications, oldest first.
	Notifications(ctx context.Context, bookingID int64) ([]Notification, error)
	// NotificationsByKeyPrefix lists notifications whose Key starts with
	// prefix, oldest first (the messages one event caused).
	NotificationsByKeyPrefix(ctx context.Context, prefix string) ([]Notification, error)
	// ClaimNotification marks a pending or unknown notification (or one stuck in
	// sending for longer than lease, on the database's clock) as sending
	// and counts the attempt. It reports false when another worker holds it
	// or it is done.
	ClaimNotification(ctx context.Context, id int64, lease time.Duration) (Claim, bool, error)
	// FinishNotification records the outcome of claim c: status sent,
	// logged or failed, pending again (with lastErr) after a transient
	// failure, unknown after an ambiguous one; sent_at is the database's time of a sent or logged outcome.
	// It returns ErrClaimLost when the claim expired and another attempt
	// took the notification over: that attempt decides its outcome.
	FinishNotification(ctx context.Context, id int64, c Claim, status NotificationStatus, providerID, lastErr string) error

	// Events lists webhook_events, newest first, filtered by f.
	Events(ctx context.Context, f EventFilter) ([]EventRecord, error)

	// ReconcilePoint returns where the reconciliation of source last got
	// to (table reconcile_state), or the zero time when it never ran.
	ReconcilePoint(ctx context.Context, source string) (time.Time, error)
	// SetReconcilePoint records where the reconciliation of source got to.
	SetReconcilePoint(ctx context.Context, source string, at time.Time) error
	// ExpiredHolds lists the bookings an auto-cancel is due for: status
	// payment_pending, deposit not paid, never cancelled, hold_expires_at
	// before before; oldest hold first.
	ExpiredHolds(ctx context.Context, before time.Time) ([]Booking, error)
	// UnfinishedSMS lists the bookings whose confirmation SMS (a Twilio
	// sid, SM..., in sms_message_sid) was sent after after and before
	// before (its notification's sent_at, else the booking's updated_at)
	// and whose sms_status is not final (FinalSMSStatuses); oldest first.
	UnfinishedSMS(ctx context.Context, after, before time.Time) ([]Booking, error)

	// Ping checks the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}

// Result is what an applied event did, recorded in webhook_events.
type Result struct {
	BookingID int64
	Outcome   string // short, e.g. "paid", "ignored_paid_booking"
}

// EventFilter narrows Store.Events. Zero fields match everything.
type EventFilter struct {
	Source  string
	Type    string
	EventID string
	// EventIDPrefix matches event ids that start with it, literally (for
	// example "SM123:", every status callback of one Twilio message).
	EventIDPrefix string
	BookingID     int64
	Limit         int // default 50
}

// Tx is the work one database transaction can do. Reads of a booking lock
// it until the transaction ends (SELECT ... FOR UPDATE on PostgreSQL; SQLite
// transactions are immediate and so already exclusive).
type Tx interface {
	// BookingForUpdate returns the booking with id, or ErrNotFound.
	BookingForUpdate(ctx context.Context, id int64) (Booking, error)
	// BookingBySMSSID returns the booking whose sms_message_sid is sid.
	BookingBySMSSID(ctx context.Context, sid string) (Booking, error)
	// NewestConfirmedByPhone returns the newest confirmed booking for phone.
	NewestConfirmedByPhone(ctx context.Context, phone string) (Booking, error)
	// BookingByPaymentIntent returns the booking whose
	// stripe_payment_intent_id is pi.
	BookingByPaymentIntent(ctx context.Context, pi string) (Booking, error)
	// UpdateBooking writes every column of b except id and created_at, and
	// sets updated_at to now.
	UpdateBooking(ctx context.Context, b Booking, now time.Time) error
	// AddTransaction inserts t and returns it with its id.
	AddTransaction(ctx context.Context, t Transaction) (Transaction, error)
	// SumTransactions returns the total amount of kind recorded for a
	// Stripe object (for example the refunds of one charge).
	SumTransactions(ctx context.Context, kind TxKind, stripeObjectID string) (int64, error)
	// AddNotification inserts n as pending unless a notification with the
	// same Key exists. It reports whether it inserted.
	AddNotification(ctx context.Context, n Notification) (bool, error)
}
