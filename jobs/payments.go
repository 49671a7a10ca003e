package jobs

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
)

// stripeTask decodes a stripe:* task and returns what every Stripe handler
// needs: the event, its webhook_events identity, the key prefix of the
// messages it causes and a logger carrying its ids.
func (w *worker) stripeTask(ctx context.Context, t *asynq.Task) (StripeEvent, bookings.Event, string, *slog.Logger, error) {
	var ev StripeEvent
	if err := decode(t, &ev); err != nil {
		return ev, bookings.Event{}, "", nil, err
	}
	if ev.EventID == "" {
		return ev, bookings.Event{}, "", nil, fmt.Errorf("stripe task without event id: %w", asynq.SkipRetry)
	}
	id, _ := asynq.GetTaskID(ctx)
	log := w.Log.With("provider", "stripe", "event_id", ev.EventID, "event_type", ev.Type, "task_id", id)
	be := bookings.Event{Source: "stripe", ID: ev.EventID, Type: ev.Type, ReceivedAt: ev.ReceivedAt}
	return ev, be, "stripe:" + ev.EventID + ":", log, nil
}

// findStripeBooking finds and locks the booking of a PaymentIntent or Charge:
// metadata.booking_id, else the stored PaymentIntent id.
func findStripeBooking(ctx context.Context, tx bookings.Tx, o StripeObject) (bookings.Booking, error) {
	if id := o.BookingID(); id > 0 {
		return tx.BookingForUpdate(ctx, id)
	}
	pi := o.PaymentIntent
	if o.Object == "payment_intent" || pi == "" {
		pi = o.ID
	}
	b, err := tx.BookingByPaymentIntent(ctx, pi)
	if err != nil {
		return b, err
	}
	return tx.BookingForUpdate(ctx, b.ID)
}

// paymentSucceeded applies payment_intent.succeeded.
func (w *worker) paymentSucceeded(ctx context.Context, t *asynq.Task) error {
	ev, be, prefix, log, err := w.stripeTask(ctx, t)
	if err != nil {
		return err
	}
	amount := ev.Object.AmountReceived
	if amount == 0 {
		amount = ev.Object.Amount
	}
	err = w.Store.Apply(ctx, be, func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		b, err := findStripeBooking(ctx, tx, ev.Object)
		if err != nil {
			return bookings.Result{}, err
		}
		now := w.Now()
		nb, out := bookings.ApplyPaymentSucceeded(b, ev.Object.ID, now)
		if err := tx.UpdateBooking(ctx, nb, now); err != nil {
			return bookings.Result{}, err
		}
		res := bookings.Result{BookingID: b.ID, Outcome: "paid"}
		if out.Record {
			if _, err := tx.AddTransaction(ctx, bookings.Transaction{BookingID: b.ID, Kind: bookings.KindPayment,
				Amount: amount, Currency: ev.Object.Currency, StripeObjectID: ev.Object.ID,
				StripeEventID: ev.EventID, CreatedAt: now}); err != nil {
				return res, err
			}
		}
		ob := w.outbox(tx, prefix)
		d := data(nb)
		d.Amount, d.Currency = amount, ev.Object.Currency
		switch {
		case out.PaidWhileCancelled:
			res.Outcome = "paid_cancelled_booking"
			err = ob.alert(ctx, nb, "payment received for a cancelled booking",
				fmt.Sprintf("PaymentIntent %s paid %s; booking stays cancelled and may need a refund.",
					ev.Object.ID, notifications.FormatAmount(amount, ev.Object.Currency)))
		case out.Confirm:
			err = ob.sms(ctx, nb, notifications.TemplateConfirmationSMS, d)
		}
		w.countTransitions(b, nb)
		return res, err
	})
	return w.settle(ctx, err, prefix, "stripe:"+ev.EventID, log)
}

// paymentFailed applies payment_intent.payment_failed and makes sure the
// hold's auto-cancel is scheduled.
func (w *worker) paymentFailed(ctx context.Context, t *asynq.Task) error {
	ev, be, prefix, log, err := w.stripeTask(ctx, t)
	if err != nil {
		return err
	}
	err = w.Store.Apply(ctx, be, func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		b, err := findStripeBooking(ctx, tx, ev.Object)
		if err != nil {
			return bookings.Result{}, err
		}
		now := w.Now()
		nb, out := bookings.ApplyPaymentFailed(b, ev.Object.ID, now, w.PaymentHold)
		if !out.Pending {
			return bookings.Result{BookingID: b.ID, Outcome: "ignored_" + string(b.Status) + "_booking"}, nil
		}
		if err := tx.UpdateBooking(ctx, nb, now); err != nil {
			return bookings.Result{}, err
		}
		w.countTransitions(b, nb)
		d := data(nb)
		d.Reason = ev.Object.FailureMessage
		return bookings.Result{BookingID: b.ID, Outcome: "payment_pending"},
			w.outbox(tx, prefix).email(ctx, nb, notifications.TemplatePaymentFailed, d)
	})
	return w.settle(ctx, err, prefix, "stripe:"+ev.EventID, log,
		func(ctx context.Context) error { return w.scheduleHold(ctx, ev.Object) })
}

// scheduleHold makes sure the auto-cancel of the booking's running hold is
// queued. It runs on every attempt, so a failure to schedule after the
// commit is repaired by the retry; the task id makes it once per hold.
func (w *worker) scheduleHold(ctx context.Context, o StripeObject) error {
	var b bookings.Booking
	err := w.Store.Run(ctx, func(ctx context.Context, tx bookings.Tx) error {
		var err error
		b, err = findStripeBooking(ctx, tx, o)
		return err
	})
	if err != nil {
		return fmt.Errorf("read booking for hold: %w", err)
	}
	if b.Status != bookings.StatusPaymentPending || b.HoldExpiresAt.IsZero() {
		return nil
	}
	task, err := NewAutoCancelTask(AutoCancel{BookingID: b.ID, HoldExpiresAt: b.HoldExpiresAt})
	if err != nil {
		return err
	}
	if err := w.Scheduler.Schedule(ctx, task); err != nil {
		return fmt.Errorf("schedule auto-cancel for booking %d: %w", b.ID, err)
	}
	return nil
}

// chargeRefunded applies charge.refunded: the amount newly refunded on the
// charge is recorded once and emailed.
func (w *worker) chargeRefunded(ctx context.Context, t *asynq.Task) error {
	ev, be, prefix, log, err := w.stripeTask(ctx, t)
	if err != nil {
		return err
	}
	err = w.Store.Apply(ctx, be, func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		b, err := findStripeBooking(ctx, tx, ev.Object)
		if err != nil {
			return bookings.Result{}, err
		}
		now := w.Now()
		before, err := tx.SumTransactions(ctx, bookings.KindRefund, ev.Object.ID)
		if err != nil {
			return bookings.Result{}, err
		}
		refunded := ev.Object.AmountRefunded
		if refunded == 0 {
			refunded = ev.Object.Amount
		}
		nb := bookings.ApplyRefund(b, now)
		if err := tx.UpdateBooking(ctx, nb, now); err != nil {
			return bookings.Result{}, err
		}
		w.countTransitions(b, nb)
		delta := refunded - before
		if delta <= 0 {
			return bookings.Result{BookingID: b.ID, Outcome: "refund_already_recorded"}, nil
		}
		if _, err := tx.AddTransaction(ctx, bookings.Transaction{BookingID: b.ID, Kind: bookings.KindRefund,
			Amount: delta, Currency: ev.Object.Currency, StripeObjectID: ev.Object.ID,
			StripeEventID: ev.EventID, CreatedAt: now}); err != nil {
			return bookings.Result{}, err
		}
		d := data(nb)
		d.Amount, d.Currency = delta, ev.Object.Currency
		return bookings.Result{BookingID: b.ID, Outcome: "refunded"},
			w.outbox(tx, prefix).email(ctx, nb, notifications.TemplateRefund, d)
	})
	return w.settle(ctx, err, prefix, "stripe:"+ev.EventID, log)
}

// countTransitions counts what changed between two versions of a booking.
func (w *worker) countTransitions(old, nb bookings.Booking) {
	inc := func(kind string) { w.Metrics.Transitions.WithLabelValues(kind).Inc() }
	if old.Status != nb.Status {
		inc(string(nb.Status))
	}
	if !old.DepositPaid && nb.DepositPaid {
		inc("paid")
	}
	if !old.DepositRefunded && nb.DepositRefunded {
		inc("refunded")
	}
	if !old.SMSDelivered && nb.SMSDelivered {
		inc("sms_delivered")
	}
	if old.SMSStatus != nb.SMSStatus {
		inc("sms_status")
	}
}
