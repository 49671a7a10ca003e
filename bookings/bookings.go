// Package bookings holds ReserveEasy's booking domain: the Booking type, its
// statuses, the rules that move a booking when a payment or SMS event arrives,
// and the Store interface that the database adapters (bookings/postgres,
// bookings/sqlite) implement.
package bookings

import (
	"errors"
	"time"
)

// Status is where a booking stands.
type Status string

// The statuses a booking can have (the values stored in bookings.status).
const (
	StatusConfirmed      Status = "confirmed"
	StatusPaymentPending Status = "payment_pending"
	StatusCancelled      Status = "cancelled"
)

// CancelReasonPaymentNotReceived is stored in cancel_reason when the hold
// after a failed payment expired.
const CancelReasonPaymentNotReceived = "payment_not_received"

// Errors returned by stores.
var (
	// ErrNotFound means no booking matched.
	ErrNotFound = errors.New("booking not found")
	// ErrAlreadyApplied means the event was already recorded in
	// webhook_events: its effects are in the database already.
	ErrAlreadyApplied = errors.New("event already applied")
	// ErrClaimLost means a notification's claim expired and another attempt
	// holds it now.
	ErrClaimLost = errors.New("notification claim lost")
)

// Booking is one row of the bookings table. Zero times and empty strings
// stand for NULL.
type Booking struct {
	ID                    int64
	CustomerName          string
	CustomerPhone         string
	CustomerEmail         string
	Status                Status
	CreatedAt             time.Time
	UpdatedAt             time.Time
	SMSMessageSID         string
	SMSStatus             string
	SMSDelivered          bool
	SMSDeliveredAt        time.Time
	DepositAmount         int64
	DepositCurrency       string
	DepositPaid           bool
	DepositPaidAt         time.Time
	StripePaymentIntentID string
	DepositRefunded       bool
	RefundedAt            time.Time
	CancelledAt           time.Time
	CancelReason          string
	// HoldExpiresAt is when a payment_pending booking is auto-cancelled
	// (column hold_expires_at). Zero when no hold runs.
	HoldExpiresAt time.Time
}

// TxKind is the kind of money movement in the transactions table.
type TxKind string

// Transaction kinds.
const (
	KindPayment TxKind = "payment"
	KindRefund  TxKind = "refund"
)

// Transaction is one row of the transactions table: one Stripe event that
// moved money.
type Transaction struct {
	ID             int64
	BookingID      int64
	Kind           TxKind
	Amount         int64 // minor units
	Currency       string
	StripeObjectID string
	StripeEventID  string
	CreatedAt      time.Time
}

// Channel is how a notification reaches its recipient.
type Channel string

// Notification channels.
const (
	ChannelEmail Channel = "email"
	ChannelSMS   Channel = "sms"
)

// NotificationStatus is where a message stands in the outbox.
type NotificationStatus string

// Notification statuses.
const (
	NotificationPending NotificationStatus = "pending" // written, not sent yet
	NotificationSending NotificationStatus = "sending" // claimed by a worker
	// NotificationUnknown: the provider call ended ambiguously (timeout or
	// reset after the request was written, 5xx): the provider may have
	// taken it. Asked before it is sent again.
	NotificationUnknown NotificationStatus = "unknown"
	NotificationSent    NotificationStatus = "sent"   // accepted by the provider
	NotificationLogged  NotificationStatus = "logged" // no provider configured: logged only
	NotificationFailed  NotificationStatus = "failed" // permanently rejected
)

// Notification is one row of the notifications table: one message, written
// in the same transaction as the change that caused it and sent after the
// commit (an outbox).
type Notification struct {
	ID         int64
	BookingID  int64
	Channel    Channel
	Template   string
	Recipient  string
	Status     NotificationStatus
	ProviderID string
	CreatedAt  time.Time
	SentAt     time.Time
	// Key is unique per message (for example "stripe:evt_1:payment_failed"):
	// writing the same message twice keeps one row.
	Key string
	// Subject, Body and HTML are the rendered message (Subject and HTML only
	// for email), kept so a retry sends exactly what was decided.
	Subject   string
	Body      string
	HTML      string
	Attempts  int
	LastError string
}

// Claim is one attempt's hold on a notification, made by
// Store.ClaimNotification.
type Claim struct {
	// Attempt is the notification's attempt count after the claim: it
	// names this claim, so that an attempt whose claim was taken over
	// cannot finish the notification.
	Attempt int
	// At is when the claim was made, on the database's clock.
	At time.Time
}

// Event identifies one webhook event in webhook_events.
type Event struct {
	Source     string // "twilio" or "stripe"
	ID         string
	Type       string
	ReceivedAt time.Time
}

// EventRecord is one row of webhook_events.
type EventRecord struct {
	Event
	ProcessedAt time.Time
	BookingID   int64 // 0 when none
	Outcome     string
}
