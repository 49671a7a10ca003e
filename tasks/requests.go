package tasks

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// RequestsStream is the Redis stream of the request log: one entry per
// webhook request, whatever its outcome. Its hash tag is the webhooks
// queue's, so that the enqueue of an event and its entry may be written by
// one script on Redis Cluster.
const RequestsStream = "gateway:{" + QueueWebhooks + "}:requests"

// How long the request log keeps entries: the stream is trimmed to the last
// RequestLogMaxLen entries and to RequestLogMaxAge, whichever is shorter.
const (
	RequestLogMaxLen = 100_000
	RequestLogMaxAge = 7 * 24 * time.Hour
)

// Request is one entry of the request log.
type Request struct {
	// ID is the stream entry id (set when read; its time is At's).
	ID string
	// At is when the gateway answered.
	At time.Time
	// Provider is "stripe" or "twilio".
	Provider string
	// Outcome is one of the outcomes of gateway_webhooks_total (accepted,
	// duplicate, ignored, invalid_signature, bad_request, too_large,
	// unavailable).
	Outcome string
	// Status is the HTTP status answered.
	Status int
	// EventID is the Stripe event id or the Twilio event id
	// (TwilioEventID), when known; "" before the signature is checked.
	EventID string
	// MessageSID is a Twilio callback's MessageSid, when known.
	MessageSID string
	// Type is the Stripe event type or the Twilio MessageStatus, when known.
	Type string
	// BookingID is the booking the request names (Stripe's
	// metadata.booking_id), when known; 0 otherwise.
	BookingID int64
	// TaskID is the task the request queued or matched, for accepted and
	// duplicate requests.
	TaskID string
	// Reason says why a request was not accepted (the public message, or
	// the ignore reason); never a secret.
	Reason string
}

// The field names of a request log entry.
const (
	reqAt       = "at"
	reqProvider = "provider"
	reqOutcome  = "outcome"
	reqStatus   = "status"
	reqEvent    = "event_id"
	reqSID      = "message_sid"
	reqType     = "type"
	reqBooking  = "booking_id"
	reqTask     = "task_id"
	reqReason   = "reason"
)

// Values is r as XADD field-value pairs (empty fields left out; ID unused).
func (r Request) Values() []any {
	v := make([]any, 0, 20)
	add := func(k, s string) {
		if s != "" {
			v = append(v, k, s)
		}
	}
	add(reqAt, strconv.FormatInt(r.At.UnixMilli(), 10))
	add(reqProvider, r.Provider)
	add(reqOutcome, r.Outcome)
	if r.Status != 0 {
		add(reqStatus, strconv.Itoa(r.Status))
	}
	add(reqEvent, r.EventID)
	add(reqSID, r.MessageSID)
	add(reqType, r.Type)
	if r.BookingID > 0 {
		add(reqBooking, strconv.FormatInt(r.BookingID, 10))
	}
	add(reqTask, r.TaskID)
	add(reqReason, r.Reason)
	return v
}

// ErrBadRequestEntry means a stream entry is not a request log entry.
var ErrBadRequestEntry = errors.New("not a request log entry")

// ParseRequest reads the stream entry id with values (as go-redis returns
// them) back into a Request.
func ParseRequest(id string, values map[string]any) (Request, error) {
	get := func(k string) string { s, _ := values[k].(string); return s }
	r := Request{ID: id, Provider: get(reqProvider), Outcome: get(reqOutcome), EventID: get(reqEvent),
		MessageSID: get(reqSID), Type: get(reqType), TaskID: get(reqTask), Reason: get(reqReason)}
	if r.Provider == "" || r.Outcome == "" {
		return Request{}, fmt.Errorf("entry %s: %w", id, ErrBadRequestEntry)
	}
	if ms, err := strconv.ParseInt(get(reqAt), 10, 64); err == nil {
		r.At = time.UnixMilli(ms).UTC()
	}
	r.Status, _ = strconv.Atoi(get(reqStatus))
	r.BookingID, _ = strconv.ParseInt(get(reqBooking), 10, 64)
	return r, nil
}
