package jobs

import (
	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/metrics"
)

// Metric labels come from closed sets: a value read from Redis or the
// database that the gateway does not know is counted as metrics.Other, so
// a stray task or row cannot create new series.

// typeLabel is the type label of a task: its type when registered, else
// metrics.Other. A task's type comes from Redis, where anyone who can
// enqueue may write any name (and asynq.ServeMux routes by prefix, so
// "stripe:payment_succeeded_x" reaches a handler too).
func (w *worker) typeLabel(t *asynq.Task) string {
	if w.types[t.Type()] {
		return t.Type()
	}
	return metrics.Other
}

// channelLabel is the channel label of a notification.
func channelLabel(c bookings.Channel) string {
	switch c {
	case bookings.ChannelEmail, bookings.ChannelSMS:
		return string(c)
	}
	return metrics.Other
}

// statusKind is the kind label of a booking entering status s.
func statusKind(s bookings.Status) string {
	switch s {
	case bookings.StatusConfirmed, bookings.StatusPaymentPending, bookings.StatusCancelled:
		return string(s)
	}
	return metrics.Other
}
