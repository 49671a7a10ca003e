package jobs

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

// autoCancel runs when a hold expires: a booking still payment_pending and
// unpaid, on the same hold, is cancelled and the customer emailed. Anything
// else (paid meanwhile, a newer hold) leaves it alone.
func (w *worker) autoCancel(ctx context.Context, t *asynq.Task) error {
	var a tasks.AutoCancel
	if err := decode(t, &a); err != nil {
		return err
	}
	base := w.Log.With("hold_expires_at", a.HoldExpiresAt) // delivery adds booking_id itself
	log := base.With("booking_id", a.BookingID)
	prefix := tasks.MessagePrefix(tasks.AutoCancelTaskID(a))
	err := w.Store.Run(ctx, func(ctx context.Context, tx bookings.Tx) error {
		b, err := tx.BookingForUpdate(ctx, a.BookingID)
		if err != nil {
			return err
		}
		if b.HoldExpiresAt.Unix() != a.HoldExpiresAt.Unix() {
			log.Info("hold no longer running; nothing to cancel", "status", b.Status)
			return nil
		}
		now := w.Now()
		if now.Before(a.HoldExpiresAt) {
			now = a.HoldExpiresAt // Asynq ran it at the due time; clocks may differ slightly
		}
		nb, cancelled := bookings.ApplyAutoCancel(b, now)
		if !cancelled {
			return nil
		}
		if err := tx.UpdateBooking(ctx, nb, now); err != nil {
			return fmt.Errorf("cancel booking %d: %w", b.ID, err)
		}
		w.countTransitions(b, nb)
		log.Info("booking cancelled: deposit not received within the hold")
		d := data(nb)
		d.Reason = bookings.CancelReasonPaymentNotReceived
		return w.outbox(tx, prefix).email(ctx, nb, notifications.TemplateCancelled, d)
	})
	return w.settle(ctx, err, prefix, "", base)
}
