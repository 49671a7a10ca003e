// Package tasks is the contract between the receivers and the workers: the
// gateway's Asynq task types and queues, their payloads and constructors,
// and the format of every task id, event id and Redis key. It imports no
// other package of the gateway's, so the receivers (handlers) link neither
// the workers nor the SMTP and Twilio senders.
package tasks

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Task type names.
const (
	TypePaymentSucceeded = "stripe:payment_succeeded"
	TypePaymentFailed    = "stripe:payment_failed"
	TypeChargeRefunded   = "stripe:charge_refunded"
	TypeSMSStatus        = "twilio:sms_status"
	TypeAutoCancel       = "booking:auto_cancel"
	TypeNotify           = "notify:send" // one customer message or support alert
)

// Queues the gateway uses, with their Asynq priorities.
const (
	QueueWebhooks = "webhooks" // one task per accepted webhook
	QueueHolds    = "holds"    // scheduled auto-cancels
)

// Queues maps each queue to its priority weight for asynq.Config.Queues.
func Queues() map[string]int { return map[string]int{QueueWebhooks: 6, QueueHolds: 3} }

// taskTimeout bounds one run of a task (a hung SMTP server or database):
// the run fails and is retried.
const taskTimeout = 2 * time.Minute

// MaxRetry is how often a task is retried before it is archived. With
// Asynq's exponential backoff, 15 retries span about a day and a half.
const MaxRetry = 15

// StripeEventTypes maps the Stripe event types the gateway handles to task
// types. Other Stripe events are acknowledged and ignored.
var stripeEventTypes = map[string]string{
	"payment_intent.succeeded":      TypePaymentSucceeded,
	"payment_intent.payment_failed": TypePaymentFailed,
	"charge.refunded":               TypeChargeRefunded,
}

// StripeEventTypes lists the Stripe event types the gateway handles, sorted.
func StripeEventTypes() []string {
	out := make([]string, 0, len(stripeEventTypes))
	for t := range stripeEventTypes {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// StripeTaskType returns the task type for a Stripe event type, or false
// when the gateway does not handle it.
func StripeTaskType(eventType string) (string, bool) {
	t, ok := stripeEventTypes[eventType]
	return t, ok
}

// StripeObject is the part of a PaymentIntent or Charge the worker needs.
type StripeObject struct {
	ID             string `json:"id"`
	Object         string `json:"object"`
	Amount         int64  `json:"amount"`
	AmountReceived int64  `json:"amount_received,omitempty"`
	AmountRefunded int64  `json:"amount_refunded,omitempty"`
	// Refunded is the Charge's refunded flag: refunded in full.
	Refunded      bool              `json:"refunded,omitempty"`
	Currency      string            `json:"currency"`
	PaymentIntent string            `json:"payment_intent,omitempty"`
	Metadata      map[string]string `json:"metadata,omitempty"`
	// FailureMessage is the PaymentIntent's last_payment_error.message.
	FailureMessage string `json:"failure_message,omitempty"`
}

// BookingID returns metadata.booking_id as a number, or 0.
func (o StripeObject) BookingID() int64 {
	id, err := strconv.ParseInt(o.Metadata["booking_id"], 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

// StripeEvent is the payload of the stripe:* tasks.
type StripeEvent struct {
	EventID    string          `json:"event_id"`
	Type       string          `json:"type"`
	APIVersion string          `json:"api_version,omitempty"`
	Created    int64           `json:"created"`
	ReceivedAt time.Time       `json:"received_at"`
	Object     StripeObject    `json:"object"`
	Raw        json.RawMessage `json:"raw"` // the whole event, for audit
}

// SMSStatus is the payload of twilio:sms_status tasks.
type SMSStatus struct {
	MessageSID    string `json:"message_sid"`
	MessageStatus string `json:"message_status"`
	// Token is the I-Twilio-Idempotency-Token header, when the callback
	// had one. It is not signed: only a guard at the door, never the
	// event's id (see EventID).
	Token      string            `json:"idempotency_token,omitempty"`
	To         string            `json:"to,omitempty"`
	From       string            `json:"from,omitempty"`
	ErrorCode  string            `json:"error_code,omitempty"`
	ReceivedAt time.Time         `json:"received_at"`
	Params     map[string]string `json:"params"` // the whole form, for audit
}

// EventID is the callback's id in webhook_events: TwilioEventID of its
// signed MessageSid and MessageStatus.
func (s SMSStatus) EventID() string { return TwilioEventID(s.MessageSID, s.MessageStatus) }

// AutoCancel is the payload of booking:auto_cancel tasks.
type AutoCancel struct {
	BookingID     int64     `json:"booking_id"`
	HoldExpiresAt time.Time `json:"hold_expires_at"`
}

// The ids of webhook events. Every task id, webhook_events event_id and
// door guard of a webhook is built here; queue prefixes them with
// gateway:seen: for its keys, and a task id followed by ":" prefixes the
// keys of the messages the event causes.

// StripeTaskID is the task id of the Stripe event eventID (which doubles
// as its deduplication key at the door).
func StripeTaskID(eventID string) string { return "stripe:" + eventID }

// TwilioEventID is the event_id in webhook_events of a Twilio status
// callback: its MessageSid and MessageStatus, both covered by the
// signature, so that a replayed callback is the same event whatever its
// unsigned headers say.
func TwilioEventID(messageSID, messageStatus string) string {
	return messageSID + ":" + messageStatus
}

// TwilioTaskID is the task id of the Twilio event eventID (TwilioEventID).
func TwilioTaskID(eventID string) string { return "twilio:" + eventID }

// TaskID is the task id of the webhook event eventID from source
// ("stripe" or "twilio"), or "" for another source.
func TaskID(source, eventID string) string {
	switch source {
	case "stripe":
		return StripeTaskID(eventID)
	case "twilio":
		return TwilioTaskID(eventID)
	}
	return ""
}

// TwilioTokenGuard is the door guard of an I-Twilio-Idempotency-Token (see
// queue.Ingress.Enqueue): a token seen before makes a duplicate, a new one
// never makes a new event.
func TwilioTokenGuard(token string) string { return "twilio-token:" + token }

// NewStripeTask builds the task for a handled Stripe event and its task id
// (which doubles as the deduplication key).
func NewStripeTask(taskType string, ev StripeEvent) (*asynq.Task, string, error) {
	b, err := json.Marshal(ev)
	if err != nil {
		return nil, "", fmt.Errorf("encode stripe event %s: %w", ev.EventID, err)
	}
	id := StripeTaskID(ev.EventID)
	return asynq.NewTask(taskType, b, asynq.TaskID(id), asynq.Queue(QueueWebhooks), asynq.MaxRetry(MaxRetry), asynq.Timeout(taskTimeout)), id, nil
}

// NewSMSStatusTask builds the task for a Twilio status callback and its
// task id, TwilioTaskID(s.EventID()): one task per message and status,
// whatever idempotency token the callback carried.
func NewSMSStatusTask(s SMSStatus) (*asynq.Task, string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return nil, "", fmt.Errorf("encode sms status %s: %w", s.EventID(), err)
	}
	id := TwilioTaskID(s.EventID())
	return asynq.NewTask(TypeSMSStatus, b, asynq.TaskID(id), asynq.Queue(QueueWebhooks), asynq.MaxRetry(MaxRetry), asynq.Timeout(taskTimeout)), id, nil
}

// Notify is the payload of notify:send tasks: the notifications row to send.
type Notify struct {
	NotificationID int64  `json:"notification_id"`
	Key            string `json:"key"`
}

// NewNotifyTask builds the task that sends one notification, with the task
// id notify:ID, so that an event applied twice queues it once. It runs on
// the webhooks queue and retries on its own: a refusing SMTP server holds
// only this message, not the event that decided on it.
func NewNotifyTask(n Notify) (*asynq.Task, error) {
	b, err := json.Marshal(n)
	if err != nil {
		return nil, fmt.Errorf("encode notify task for notification %d: %w", n.NotificationID, err)
	}
	return asynq.NewTask(TypeNotify, b, asynq.TaskID(NotifyTaskID(n.NotificationID)),
		asynq.Queue(QueueWebhooks), asynq.MaxRetry(MaxRetry), asynq.Timeout(taskTimeout)), nil
}

// NewAutoCancelTask builds the auto-cancel for one hold: one task per hold,
// due when the hold expires.
func NewAutoCancelTask(a AutoCancel) (*asynq.Task, error) {
	b, err := json.Marshal(a)
	if err != nil {
		return nil, fmt.Errorf("encode auto-cancel for booking %d: %w", a.BookingID, err)
	}
	return asynq.NewTask(TypeAutoCancel, b, asynq.TaskID(AutoCancelTaskID(a)), asynq.Queue(QueueHolds),
		asynq.MaxRetry(MaxRetry), asynq.Timeout(taskTimeout), asynq.ProcessAt(ceilSecond(a.HoldExpiresAt))), nil
}

// AutoCancelTaskID is the task id of the auto-cancel of one hold: whoever
// queues it (the payment-failed worker, reconcile), one task per hold.
func AutoCancelTaskID(a AutoCancel) string {
	return fmt.Sprintf("hold:%d:%d", a.BookingID, a.HoldExpiresAt.Unix())
}

// ceilSecond rounds t up to a whole second: Asynq keeps due times in whole
// seconds and would otherwise run a task up to a second early.
func ceilSecond(t time.Time) time.Time {
	if r := t.Truncate(time.Second); !r.Equal(t) {
		return r.Add(time.Second)
	}
	return t
}
