package jobs

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

// smsStatus applies a Twilio status callback: the booking's SMS status only
// moves forward; the first failure falls back to email and alerts support.
func (w *worker) smsStatus(ctx context.Context, t *asynq.Task) error {
	var s tasks.SMSStatus
	if err := decode(t, &s); err != nil {
		return err
	}
	if s.MessageSID == "" || s.MessageStatus == "" {
		return fmt.Errorf("sms status task without sid or status: %w", asynq.SkipRetry)
	}
	// Keyed on the signed sid and status, never on the token: a replay
	// with a fresh token that got past the door is refused here.
	eventID := s.EventID()
	taskID := tasks.TwilioTaskID(eventID)
	log := w.Log.With("provider", "twilio", "event_id", eventID, "message_sid", s.MessageSID, "task_id", taskID)
	prefix := tasks.MessagePrefix(taskID)
	be := bookings.Event{Source: "twilio", ID: eventID, Type: "sms." + s.MessageStatus, ReceivedAt: s.ReceivedAt}
	var failedBooking int64
	var failedPhone string
	err := w.Store.Apply(ctx, be, func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		b, err := findSMSBooking(ctx, tx, s)
		if err != nil {
			return bookings.Result{}, err
		}
		now := w.Now()
		nb, up := bookings.ApplySMSStatus(b, s.MessageStatus, now)
		if !up.Changed {
			return bookings.Result{BookingID: b.ID, Outcome: "stale_status"}, nil
		}
		if err := tx.UpdateBooking(ctx, nb, now); err != nil {
			return bookings.Result{}, err
		}
		w.countTransitions(b, nb)
		if !up.FirstFailure {
			return bookings.Result{BookingID: b.ID, Outcome: "sms_" + s.MessageStatus}, nil
		}
		failedBooking, failedPhone = b.ID, nb.CustomerPhone
		ob := w.outbox(tx, prefix)
		if err := ob.email(ctx, nb, notifications.TemplateConfirmationEmail, data(nb)); err != nil {
			return bookings.Result{}, err
		}
		detail := fmt.Sprintf("SMS %s to %s is %s (Twilio error code %s); the confirmation was emailed instead.",
			s.MessageSID, notifications.MaskPhone(nb.CustomerPhone), s.MessageStatus, orNone(s.ErrorCode))
		return bookings.Result{BookingID: b.ID, Outcome: "sms_failed"},
			ob.alert(ctx, nb, "confirmation SMS "+s.MessageStatus, detail)
	})
	if failedBooking != 0 && err == nil {
		log.Error("confirmation SMS failed", "booking_id", failedBooking, "to", notifications.MaskPhone(failedPhone),
			"status", s.MessageStatus, "error_code", s.ErrorCode)
	}
	return w.settle(ctx, err, prefix, taskID, log)
}

// findSMSBooking finds and locks the booking an SMS belongs to: by
// sms_message_sid, else the newest confirmed booking for the recipient.
func findSMSBooking(ctx context.Context, tx bookings.Tx, s tasks.SMSStatus) (bookings.Booking, error) {
	b, err := tx.BookingBySMSSID(ctx, s.MessageSID)
	if errors.Is(err, bookings.ErrNotFound) && s.To != "" {
		b, err = tx.NewestConfirmedByPhone(ctx, s.To)
	}
	if err != nil {
		return b, err
	}
	return tx.BookingForUpdate(ctx, b.ID)
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
