package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/notifications"
)

// runInspect tells what happened to one event: received, queued, attempts,
// last error, the booking change and the messages sent.
func runInspect(ctx context.Context, e *env, args []string) error {
	fs := e.flags("inspect", "usage: gateway inspect EVENT_ID\n\nWhat happened to one event: Stripe event id (evt_...) or Twilio key (MessageSid:MessageStatus or idempotency token).")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("inspect: give one EVENT_ID")
	}
	id := fs.Arg(0)
	t, err := openTools(ctx, e, true)
	if err != nil {
		return err
	}
	defer t.Close()
	w := e.stdout
	fmt.Fprintf(w, "Event %s\n", id)
	bookingID := t.inspectTask(w, id)
	evs, err := t.store.Events(ctx, bookings.EventFilter{EventID: id, Limit: 10})
	if err != nil {
		return fmt.Errorf("read webhook_events: %w", err)
	}
	source := ""
	for _, ev := range evs {
		fmt.Fprintf(w, "  applied:   %s %s received %s, processed %s, outcome %s\n",
			ev.Source, ev.Type, stamp(ev.ReceivedAt), stamp(ev.ProcessedAt), dash(ev.Outcome))
		source = ev.Source
		if ev.BookingID != 0 {
			bookingID = ev.BookingID
		}
	}
	if len(evs) == 0 {
		fmt.Fprintln(w, "  applied:   not yet (no webhook_events row)")
	}
	if bookingID != 0 {
		t.inspectBooking(ctx, w, bookingID, id)
	}
	for _, src := range sources(source) {
		ns, err := t.store.NotificationsByKeyPrefix(ctx, src+":"+id+":")
		if err != nil {
			return fmt.Errorf("read notifications: %w", err)
		}
		for _, n := range ns {
			fmt.Fprintf(w, "  message:   %s %s to %s: %s (attempts %d, sent %s)%s\n", n.Channel, n.Template,
				maskRecipient(n), n.Status, n.Attempts, stamp(n.SentAt), errSuffix(n.LastError))
		}
	}
	return nil
}

// inspectTask prints the event's Asynq task and returns the booking id its
// payload names, if any.
func (t *tools) inspectTask(w io.Writer, id string) int64 {
	in := t.inspector()
	defer in.Close()
	for _, taskID := range []string{"stripe:" + id, "twilio:" + id} {
		ti, err := in.GetTaskInfo(jobs.QueueWebhooks, taskID)
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "  task:      %s %s in queue %s: %s, attempts %d of %d%s\n", ti.Type, ti.ID, ti.Queue, ti.State,
			ti.Retried+boolInt(ti.State != asynq.TaskStatePending && ti.State != asynq.TaskStateScheduled), ti.MaxRetry+1, errSuffix(ti.LastErr))
		if !ti.NextProcessAt.IsZero() && ti.State != asynq.TaskStateCompleted {
			fmt.Fprintf(w, "             next run %s\n", stamp(ti.NextProcessAt))
		}
		var ev jobs.StripeEvent
		if json.Unmarshal(ti.Payload, &ev) == nil {
			return ev.Object.BookingID()
		}
		return 0
	}
	fmt.Fprintln(w, "  task:      not in Redis (never queued, or completed more than an hour ago)")
	return 0
}

func (t *tools) inspectBooking(ctx context.Context, w io.Writer, id int64, eventID string) {
	b, err := t.store.Booking(ctx, id)
	if err != nil {
		fmt.Fprintf(w, "  booking:   %d (%v)\n", id, err)
		return
	}
	fmt.Fprintf(w, "  booking:   #%d %s, deposit %s paid=%v refunded=%v, sms %s delivered=%v%s\n", b.ID, b.Status,
		notifications.FormatAmount(b.DepositAmount, b.DepositCurrency), b.DepositPaid, b.DepositRefunded,
		dash(b.SMSStatus), b.SMSDelivered, holdSuffix(b))
	txs, err := t.store.Transactions(ctx, id)
	if err != nil {
		return
	}
	for _, tx := range txs {
		if tx.StripeEventID == eventID {
			fmt.Fprintf(w, "  money:     %s %s (%s)\n", tx.Kind, notifications.FormatAmount(tx.Amount, tx.Currency), tx.StripeObjectID)
		}
	}
}

func holdSuffix(b bookings.Booking) string {
	switch {
	case !b.HoldExpiresAt.IsZero():
		return ", auto-cancel at " + stamp(b.HoldExpiresAt)
	case b.Status == bookings.StatusCancelled:
		return ", cancelled " + stamp(b.CancelledAt) + " (" + dash(b.CancelReason) + ")"
	}
	return ""
}

func sources(known string) []string {
	if known != "" {
		return []string{known}
	}
	return []string{"stripe", "twilio"}
}

func maskRecipient(n bookings.Notification) string {
	if n.Channel == bookings.ChannelSMS {
		return notifications.MaskPhone(n.Recipient)
	}
	if n.Recipient == "" {
		return "(log only)"
	}
	return notifications.MaskEmail(n.Recipient)
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ", last error: " + s
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
