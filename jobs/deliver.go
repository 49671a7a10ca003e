package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

// claimLease is how long a claimed message may stay "sending" before
// another attempt may take it over (a worker died mid-send), measured on
// the database's clock. It exceeds the providers' own timeouts.
const claimLease = time.Minute

// lease is Deps.ClaimLease, or claimLease when unset.
func (w *worker) lease() time.Duration {
	if w.ClaimLease > 0 {
		return w.ClaimLease
	}
	return claimLease
}

// errInFlight means another attempt is sending a message right now: retry
// later rather than finish with the message unsent.
var errInFlight = errors.New("notification is being sent by another attempt")

// enqueue queues a notify:send task for every unsent message whose key
// starts with prefix (the messages one event decided on), after the
// event's commit. The task id is the notification's, so enqueuing again
// (a retried event) adds nothing while the task is in Redis, and a task
// for a message already sent does nothing.
func (w *worker) enqueue(ctx context.Context, prefix string) error {
	ns, err := w.Store.NotificationsByKeyPrefix(ctx, prefix)
	if err != nil {
		return fmt.Errorf("list notifications %s: %w", prefix, err)
	}
	for _, n := range ns {
		if !unsent(n.Status) {
			continue
		}
		t, err := tasks.NewNotifyTask(tasks.Notify{NotificationID: n.ID, Key: n.Key})
		if err != nil {
			return err
		}
		if err := w.Scheduler.Schedule(ctx, t); err != nil {
			return fmt.Errorf("queue notification %d: %w", n.ID, err)
		}
	}
	return nil
}

// unsent reports whether a message in status s may still need sending.
func unsent(s bookings.NotificationStatus) bool {
	switch s {
	case bookings.NotificationPending, bookings.NotificationSending, bookings.NotificationUnknown:
		return true
	}
	return false
}

// notify handles notify:send: it sends one message, claimed before and
// finished after, so a retried task never sends it twice. Transient
// failures are returned (retry).
func (w *worker) notify(ctx context.Context, t *asynq.Task) error {
	var p tasks.Notify
	if err := decode(t, &p); err != nil {
		return err
	}
	ns, err := w.Store.NotificationsByKeyPrefix(ctx, p.Key)
	if err != nil {
		return fmt.Errorf("find notification %d: %w", p.NotificationID, err)
	}
	for _, n := range ns {
		if n.ID == p.NotificationID {
			return w.deliverOne(ctx, n, w.Log)
		}
	}
	w.Log.Warn("no such notification; not retrying", "notification_id", p.NotificationID)
	return fmt.Errorf("notification %d: %w: %w", p.NotificationID, bookings.ErrNotFound, asynq.SkipRetry)
}

func (w *worker) deliverOne(ctx context.Context, n bookings.Notification, log *slog.Logger) error {
	if !unsent(n.Status) {
		return nil
	}
	claim, ok, err := w.Store.ClaimNotification(ctx, n.ID, w.lease())
	if err != nil {
		return fmt.Errorf("claim notification %d: %w", n.ID, err)
	}
	if !ok {
		if n.Status == bookings.NotificationSending {
			return fmt.Errorf("notification %d: %w", n.ID, errInFlight)
		}
		return nil // finished meanwhile
	}
	log = log.With("booking_id", n.BookingID, "notification_id", n.ID, "template", n.Template, "channel", n.Channel)
	if claim.Attempt > 1 {
		// An earlier attempt may have reached the provider (its outcome is
		// unknown, it died holding the claim, or the database refused its
		// outcome): look for its receipt, then ask, before sending again.
		rcpt, found, err := w.earlierOutcome(ctx, n)
		if err != nil {
			if ferr := w.finishNotification(ctx, n, claim, bookings.NotificationUnknown, "", err.Error()); ferr != nil {
				log.Warn("could not release notification", "err", ferr)
			}
			return fmt.Errorf("look up earlier attempts of notification %d: %w", n.ID, err)
		}
		if found {
			log.Info("provider already took the message; not sending it again", "provider_id", rcpt.ProviderID)
			return w.accepted(ctx, n, claim, rcpt, log)
		}
	}
	rcpt, err := w.send(ctx, n, log)
	switch {
	case err != nil && errors.Is(err, notifications.ErrPermanent):
		w.Metrics.Notifications.WithLabelValues(channelLabel(n.Channel), "failed").Inc()
		log.Error("message rejected for good", "err", err)
		return w.finishNotification(ctx, n, claim, bookings.NotificationFailed, "", err.Error())
	case err != nil:
		status := bookings.NotificationPending // never reached the provider
		if errors.Is(err, notifications.ErrAmbiguous) {
			status = bookings.NotificationUnknown
		}
		w.Metrics.Notifications.WithLabelValues(channelLabel(n.Channel), "retried").Inc()
		log.Warn("message not sent; will retry", "outcome", string(status), "err", err)
		if ferr := w.finishNotification(ctx, n, claim, status, "", err.Error()); ferr != nil {
			log.Warn("could not release notification", "err", ferr)
		}
		return fmt.Errorf("send %s %s: %w", n.Channel, n.Template, err)
	}
	return w.accepted(ctx, n, claim, rcpt, log)
}

// accepted records a message the provider took (or that was only logged).
// The receipt is kept in Redis first, and the database write is retried
// with backoff: an outcome the provider accepted is never forgotten.
func (w *worker) accepted(ctx context.Context, n bookings.Notification, claim bookings.Claim, rcpt notifications.Receipt, log *slog.Logger) error {
	if w.Receipts != nil && !rcpt.Logged {
		if err := w.Receipts.KeepReceipt(ctx, n.ID, rcpt.ProviderID); err != nil {
			log.Warn("could not keep the provider's receipt in redis", "provider_id", rcpt.ProviderID, "err", err)
		}
	}
	status := bookings.NotificationSent
	if rcpt.Logged {
		status = bookings.NotificationLogged
	}
	w.Metrics.Notifications.WithLabelValues(channelLabel(n.Channel), string(status)).Inc()
	log.Info("message "+string(status), "provider_id", rcpt.ProviderID)
	if n.Template == notifications.TemplateConfirmationSMS && rcpt.ProviderID != "" {
		if err := w.Store.SetSMSMessageSID(ctx, n.BookingID, rcpt.ProviderID); err != nil {
			log.Error("could not store sms sid", "sid", rcpt.ProviderID, "err", err)
		}
	}
	err := w.finishNotification(ctx, n, claim, status, rcpt.ProviderID, "")
	for delay := finishBackoff; err != nil && delay <= maxFinishBackoff; delay *= 2 {
		log.Warn("could not record the message as "+string(status)+"; retrying", "provider_id", rcpt.ProviderID, "err", err)
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return fmt.Errorf("record notification %d (provider id %s): %w", n.ID, rcpt.ProviderID, context.Cause(ctx))
		}
		err = w.finishNotification(ctx, n, claim, status, rcpt.ProviderID, "")
	}
	if err != nil {
		log.Error("could not record the message; the next attempt records it from its receipt", "provider_id", rcpt.ProviderID, "err", err)
	}
	return err
}

// finishBackoff and maxFinishBackoff bound how long recording an accepted
// message is retried in place: 0.1 + 0.2 + 0.4 + 0.8 + 1.6 s.
const (
	finishBackoff    = 100 * time.Millisecond
	maxFinishBackoff = 1600 * time.Millisecond
)

// lookupMargin widens the window in which Twilio is asked for an earlier
// attempt's message: created_at is the worker's clock, Twilio's date_sent
// its own.
const lookupMargin = 15 * time.Minute

// earlierOutcome tells whether an earlier attempt at n got through: its
// receipt kept in Redis, else (SMS) Twilio's answer. An email without a
// receipt is sent again under the same Message-ID.
func (w *worker) earlierOutcome(ctx context.Context, n bookings.Notification) (notifications.Receipt, bool, error) {
	if w.Receipts != nil {
		id, ok, err := w.Receipts.Receipt(ctx, n.ID)
		if err != nil || ok {
			return notifications.Receipt{ProviderID: id}, ok, err
		}
	}
	finder, ok := w.Texter.(notifications.SMSFinder)
	if n.Channel != bookings.ChannelSMS || !ok {
		return notifications.Receipt{}, false, nil
	}
	return finder.FindSMS(ctx, n.Recipient, n.Body, n.CreatedAt.Add(-lookupMargin))
}

// messageID is the local part of the Message-ID of every attempt at email
// n: the notification and booking ids and a hash of its key.
func messageID(n bookings.Notification) string {
	h := sha256.Sum256([]byte(n.Key))
	return fmt.Sprintf("%d.%d.%s", n.ID, n.BookingID, hex.EncodeToString(h[:8]))
}

func (w *worker) finishNotification(ctx context.Context, n bookings.Notification, c bookings.Claim, s bookings.NotificationStatus, providerID, lastErr string) error {
	err := w.Store.FinishNotification(ctx, n.ID, c, s, providerID, lastErr)
	if errors.Is(err, bookings.ErrClaimLost) {
		w.Log.Warn("notification taken over by another attempt after its claim expired", "notification_id", n.ID)
		return nil
	}
	if err != nil {
		return fmt.Errorf("finish notification %d: %w", n.ID, err)
	}
	return nil
}

// send hands one message to its provider. Support alerts are also logged
// at error level (their subject: the body names the customer), and only
// logged when no SUPPORT_EMAIL is set.
func (w *worker) send(ctx context.Context, n bookings.Notification, log *slog.Logger) (notifications.Receipt, error) {
	if n.Template == notifications.TemplateSupportAlert {
		log.Error("support alert", "subject", n.Subject)
		if n.Recipient == "" {
			return notifications.Receipt{Logged: true}, nil
		}
	}
	switch n.Channel {
	case bookings.ChannelSMS:
		return w.Texter.SendSMS(ctx, notifications.SMS{To: n.Recipient, Body: n.Body,
			StatusCallback: w.StatusCallbackURL, Template: n.Template})
	case bookings.ChannelEmail:
		return w.Mailer.SendEmail(ctx, notifications.Email{To: n.Recipient, Subject: n.Subject,
			Text: n.Body, HTML: n.HTML, Template: n.Template, MessageID: messageID(n)})
	}
	return notifications.Receipt{}, fmt.Errorf("unknown channel %q: %w", n.Channel, notifications.ErrPermanent)
}
