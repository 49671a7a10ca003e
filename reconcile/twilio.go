package reconcile

import (
	"context"
	"errors"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

// MessageFetcher asks Twilio for one message's status now;
// notifications.TwilioTexter is one.
type MessageFetcher interface {
	FetchMessage(ctx context.Context, sid string) (notifications.MessageState, error)
}

// maxFailuresInARow stops a source that keeps failing (the API is down or
// refuses the credentials) instead of trying every item.
const maxFailuresInARow = 3

// twilio fetches every SMS the gateway sent between Since and SMSGrace ago
// whose booking has no final status, and queues the status callback Twilio
// would have sent for a status the booking has not reached: the same task,
// keyed MessageSid:MessageStatus, so the real callback, if it still comes,
// is a duplicate, and a failure sends the fallback email through the
// normal path, once.
func (r *Reconciler) twilio(ctx context.Context, o Options) Report {
	rep := Report{Source: SourceTwilio}
	if r.c.Twilio == nil {
		rep.Skipped = r.c.TwilioOff
		return rep
	}
	now := r.c.Now()
	bs, err := r.c.Store.UnfinishedSMS(ctx, now.Add(-o.Since), now.Add(-o.SMSGrace))
	if err != nil {
		rep.Err = err
		return rep
	}
	var errs []error
	inARow := 0
	for _, b := range bs {
		r.checked(&rep)
		err := r.twilioMessage(ctx, &rep, o, b)
		if err == nil {
			inARow = 0
			continue
		}
		errs = append(errs, err)
		if inARow++; inARow >= maxFailuresInARow {
			errs = append(errs, errStop)
			break
		}
	}
	rep.Err = errors.Join(errs...)
	return rep
}

// sentRank is the rank of "sent": statuses below it (accepted, queued,
// sending) say only that the message has not left yet, and are not applied.
var sentRank, _ = bookings.SMSRank("sent")

// twilioMessage reconciles the SMS of booking b.
func (r *Reconciler) twilioMessage(ctx context.Context, rep *Report, o Options, b bookings.Booking) error {
	log := r.c.Log.With("component", "reconcile", "source", SourceTwilio, "booking_id", b.ID, "message_sid", b.SMSMessageSID)
	st, err := r.c.Twilio.FetchMessage(ctx, b.SMSMessageSID)
	if errors.Is(err, notifications.ErrNoSuchMessage) {
		// Nothing to apply, and nothing a retry would change: not a
		// failure of the source.
		log.Warn("Twilio does not know the message (deleted, or sent from another account); skipped")
		return nil
	}
	if err != nil {
		r.failedItem(rep)
		log.Error("could not fetch the message from Twilio", "err", err)
		return err
	}
	if rank, _ := bookings.SMSRank(st.Status); rank < sentRank {
		return nil // not sent yet: no news a callback would bring
	}
	if _, up := bookings.ApplySMSStatus(b, st.Status, r.c.Now()); !up.Changed {
		return nil // the booking is there already
	}
	key := tasks.TwilioEventID(b.SMSMessageSID, st.Status)
	done, err := r.applied(ctx, SourceTwilio, key)
	if err != nil {
		r.failedItem(rep)
		return err
	}
	if done {
		return nil
	}
	params := map[string]string{"MessageSid": b.SMSMessageSID, "MessageStatus": st.Status, "SmsStatus": st.Status}
	for k, v := range map[string]string{"To": st.To, "From": st.From, "ErrorCode": st.ErrorCode} {
		if v != "" {
			params[k] = v
		}
	}
	task, id, err := tasks.NewSMSStatusTask(tasks.SMSStatus{
		MessageSID: b.SMSMessageSID, MessageStatus: st.Status, To: st.To, From: st.From,
		ErrorCode: st.ErrorCode, ReceivedAt: r.c.Now().UTC(), Params: params,
	})
	if err != nil {
		r.failedItem(rep)
		return err
	}
	return r.missing(ctx, rep, o.DryRun, id, task, log.With("status", st.Status))
}
