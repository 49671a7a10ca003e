package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

// stripeTask decodes a stripe:* task and returns what every Stripe handler
// needs: the event, its webhook_events identity, the key prefix of the
// messages it causes and a logger carrying its ids.
func (w *worker) stripeTask(ctx context.Context, t *asynq.Task) (tasks.StripeEvent, bookings.Event, string, *slog.Logger, error) {
	var ev tasks.StripeEvent
	if err := decode(t, &ev); err != nil {
		return ev, bookings.Event{}, "", nil, err
	}
	if ev.EventID == "" {
		return ev, bookings.Event{}, "", nil, fmt.Errorf("stripe task without event id: %w", asynq.SkipRetry)
	}
	id := tasks.StripeTaskID(ev.EventID)
	log := w.Log.With("provider", "stripe", "event_id", ev.EventID, "event_type", ev.Type, "task_id", id)
	be := bookings.Event{Source: "stripe", ID: ev.EventID, Type: ev.Type, ReceivedAt: ev.ReceivedAt}
	return ev, be, tasks.MessagePrefix(id), log, nil
}

// findStripeBooking finds and locks the booking of a PaymentIntent or Charge:
// metadata.booking_id, else the stored PaymentIntent id.
func findStripeBooking(ctx context.Context, tx bookings.Tx, o tasks.StripeObject) (bookings.Booking, error) {
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

// stripeChange is what one Stripe event does inside its transaction: b is
// the event's booking, locked; ob writes the messages the change calls for.
type stripeChange func(ctx context.Context, tx bookings.Tx, ob *outbox, ev tasks.StripeEvent, b bookings.Booking, now time.Time) (bookings.Result, error)

// applyStripe decodes a stripe:* task, applies change to its booking
// exactly once, runs the follow-ups and sends the messages.
func (w *worker) applyStripe(ctx context.Context, t *asynq.Task, change stripeChange, then ...func(context.Context, tasks.StripeEvent) error) error {
	ev, be, prefix, log, err := w.stripeTask(ctx, t)
	if err != nil {
		return err
	}
	err = w.Store.Apply(ctx, be, func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		b, err := findStripeBooking(ctx, tx, ev.Object)
		if err != nil {
			return bookings.Result{}, err
		}
		return change(ctx, tx, w.outbox(tx, prefix), ev, b, w.Now())
	})
	followUps := make([]func(context.Context) error, len(then))
	for i, f := range then {
		followUps[i] = func(ctx context.Context) error { return f(ctx, ev) }
	}
	return w.settle(ctx, err, prefix, tasks.StripeTaskID(ev.EventID), log, followUps...)
}

func (w *worker) paymentSucceeded(ctx context.Context, t *asynq.Task) error {
	return w.applyStripe(ctx, t, w.paid)
}

func (w *worker) paymentFailed(ctx context.Context, t *asynq.Task) error {
	return w.applyStripe(ctx, t, w.failed, w.scheduleHold)
}

func (w *worker) chargeRefunded(ctx context.Context, t *asynq.Task) error {
	return w.applyStripe(ctx, t, w.refunded)
}

// paid applies payment_intent.succeeded: the deposit is paid, the booking
// confirmed (unless cancelled: support is alerted) and the SMS written.
func (w *worker) paid(ctx context.Context, tx bookings.Tx, ob *outbox, ev tasks.StripeEvent, b bookings.Booking, now time.Time) (bookings.Result, error) {
	amount := ev.Object.AmountReceived
	if amount == 0 {
		amount = ev.Object.Amount
	}
	recorded, err := tx.SumTransactions(ctx, bookings.KindPayment, ev.Object.ID)
	if err != nil {
		return bookings.Result{}, err
	}
	nb, out := bookings.ApplyPaymentSucceeded(b, ev.Object.ID, recorded > 0, now)
	if err := tx.UpdateBooking(ctx, nb, now); err != nil {
		return bookings.Result{}, err
	}
	w.countTransitions(b, nb)
	res := bookings.Result{BookingID: b.ID, Outcome: "paid"}
	if out.Record {
		if _, err := tx.AddTransaction(ctx, bookings.Transaction{BookingID: b.ID, Kind: bookings.KindPayment,
			Amount: amount, Currency: ev.Object.Currency, StripeObjectID: ev.Object.ID,
			StripeEventID: ev.EventID, CreatedAt: now}); err != nil {
			return res, err
		}
	}
	d := data(nb)
	d.Amount, d.Currency = amount, ev.Object.Currency
	switch {
	case out.PaidWhileCancelled:
		res.Outcome = "paid_cancelled_booking"
		return res, ob.alert(ctx, nb, "payment received for a cancelled booking",
			fmt.Sprintf("PaymentIntent %s paid %s; booking stays cancelled and may need a refund.",
				ev.Object.ID, notifications.FormatAmount(amount, ev.Object.Currency)))
	case out.PaidTwice:
		res.Outcome = "paid_twice"
		return res, ob.alert(ctx, nb, "deposit paid twice",
			fmt.Sprintf("PaymentIntent %s paid %s for a booking already paid by %s; a refund may be due.",
				ev.Object.ID, notifications.FormatAmount(amount, ev.Object.Currency), nb.StripePaymentIntentID))
	case out.Confirm:
		return res, ob.sms(ctx, nb, notifications.TemplateConfirmationSMS, d)
	case !out.Record:
		res.Outcome = "already_paid"
	}
	return res, nil
}

// failed applies payment_intent.payment_failed: an unpaid, not cancelled
// booking waits for its deposit and the customer is emailed.
func (w *worker) failed(ctx context.Context, tx bookings.Tx, ob *outbox, ev tasks.StripeEvent, b bookings.Booking, now time.Time) (bookings.Result, error) {
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
		ob.email(ctx, nb, notifications.TemplatePaymentFailed, d)
}

// refunded applies charge.refunded: the amount newly refunded on the charge
// is recorded once and emailed; the deposit is marked refunded once the
// charge is refunded in full.
func (w *worker) refunded(ctx context.Context, tx bookings.Tx, ob *outbox, ev tasks.StripeEvent, b bookings.Booking, now time.Time) (bookings.Result, error) {
	recorded, err := tx.SumTransactions(ctx, bookings.KindRefund, ev.Object.ID)
	if err != nil {
		return bookings.Result{}, err
	}
	nb, out := bookings.ApplyChargeRefunded(b, bookings.ChargeRefund{Amount: ev.Object.Amount,
		Refunded: ev.Object.AmountRefunded, Full: ev.Object.Refunded}, recorded, now)
	if err := tx.UpdateBooking(ctx, nb, now); err != nil {
		return bookings.Result{}, err
	}
	w.countTransitions(b, nb)
	if out.New == 0 {
		return bookings.Result{BookingID: b.ID, Outcome: "refund_already_recorded"}, nil
	}
	currency := ev.Object.Currency
	if currency == "" {
		currency = b.DepositCurrency
	}
	if _, err := tx.AddTransaction(ctx, bookings.Transaction{BookingID: b.ID, Kind: bookings.KindRefund,
		Amount: out.New, Currency: currency, StripeObjectID: ev.Object.ID,
		StripeEventID: ev.EventID, CreatedAt: now}); err != nil {
		return bookings.Result{}, err
	}
	d := data(nb)
	d.Amount, d.Of, d.Currency, d.Share = out.New, out.Of, currency, string(out.Share)
	outcome := "refunded"
	if !out.Full {
		outcome = "partly_refunded"
	}
	return bookings.Result{BookingID: b.ID, Outcome: outcome}, ob.email(ctx, nb, notifications.TemplateRefund, d)
}

// scheduleHold makes sure the auto-cancel of the booking's running hold is
// queued. It runs on every attempt, so a failure to schedule after the
// commit is repaired by the retry; the task id makes it once per hold.
func (w *worker) scheduleHold(ctx context.Context, ev tasks.StripeEvent) error {
	var b bookings.Booking
	err := w.Store.Run(ctx, func(ctx context.Context, tx bookings.Tx) error {
		var err error
		b, err = findStripeBooking(ctx, tx, ev.Object)
		return err
	})
	if err != nil {
		return fmt.Errorf("read booking for hold: %w", err)
	}
	if b.Status != bookings.StatusPaymentPending || b.HoldExpiresAt.IsZero() {
		return nil
	}
	task, err := tasks.NewAutoCancelTask(tasks.AutoCancel{BookingID: b.ID, HoldExpiresAt: b.HoldExpiresAt})
	if err != nil {
		return err
	}
	if err := w.Scheduler.Schedule(ctx, task); err != nil {
		return fmt.Errorf("schedule auto-cancel for booking %d: %w", b.ID, err)
	}
	return nil
}

// countTransitions counts what changed between two versions of a booking.
func (w *worker) countTransitions(old, nb bookings.Booking) {
	inc := func(kind string) { w.Metrics.Transitions.WithLabelValues(kind).Inc() }
	if old.Status != nb.Status {
		inc(statusKind(nb.Status))
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
