package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/opsview"
	"github.com/reserveeasy/gateway/tasks"
)

// runInspect tells what happened to one event: its requests, received,
// queued, attempts, last error, the booking change and the messages sent.
// Given a Twilio MessageSid, it tells it for every status callback of that
// message and names the message it reports on; given --booking ID, the
// booking's whole story.
func runInspect(ctx context.Context, e *env, args []string) error {
	fs := e.flags("inspect", "usage: gateway inspect EVENT_ID\n       gateway inspect --booking ID\n\nWhat happened to one event: Stripe event id (evt_...), Twilio event (MessageSid:MessageStatus), or a MessageSid for every status callback of that message; or a booking's whole story in order (events and how they ended, transitions, money, messages, hold). Exit 1 when nothing is known.")
	var bookingID int64
	fs.Int64Var(&bookingID, "booking", 0, "tell this booking's whole story")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case bookingID < 0 || bookingID > 0 && fs.NArg() > 0:
		fs.Usage()
		return errors.New("inspect: give one EVENT_ID or --booking ID (1 or more)")
	case bookingID > 0:
		return inspectStory(ctx, e, bookingID)
	case fs.NArg() != 1:
		fs.Usage()
		return errors.New("inspect: give one EVENT_ID or --booking ID")
	}
	id := fs.Arg(0)
	t, err := openTools(ctx, e, true)
	if err != nil {
		return err
	}
	defer t.Close()
	evs, err := t.events(ctx, id)
	if err != nil {
		return fmt.Errorf("read webhook_events: %w", err)
	}
	// The task ids the event may have: those of the rows found, else both.
	taskIDs := []string{tasks.StripeTaskID(id), tasks.TwilioTaskID(id)}
	if len(evs) > 0 {
		taskIDs = taskIDs[:0]
		for _, ev := range evs {
			taskIDs = append(taskIDs, tasks.TaskID(ev.Source, ev.ID))
		}
	}
	w := e.stdout
	fmt.Fprintf(w, "Event %s\n", printable(id))
	found, err := t.inspectRequests(ctx, w, id)
	if err != nil {
		return err
	}
	bookingID, inRedis := t.inspectTasks(w, taskIDs)
	found = found || inRedis || len(evs) > 0
	for _, ev := range evs {
		fmt.Fprintf(w, "  applied:   %s %s %s received %s, processed %s, outcome %s\n", ev.Source, ev.ID,
			ev.Type, opsview.Stamp(ev.ReceivedAt), opsview.Stamp(ev.ProcessedAt), opsview.Dash(ev.Outcome))
		if ev.BookingID != 0 {
			bookingID = ev.BookingID
		}
	}
	if len(evs) == 0 {
		fmt.Fprintln(w, "  applied:   not yet (no webhook_events row)")
	}
	// A MessageSid names the message the callbacks report on.
	sent, err := t.store.NotificationsByProviderID(ctx, strings.SplitN(id, ":", 2)[0])
	if err != nil {
		return err
	}
	for _, n := range sent {
		found = true
		fmt.Fprintf(w, "  sent by:   booking #%d message %s\n", n.BookingID, opsview.DescribeMessage(n))
		if bookingID == 0 {
			bookingID = n.BookingID
		}
	}
	if bookingID != 0 {
		t.inspectBooking(ctx, w, bookingID, id)
	}
	for _, taskID := range taskIDs {
		// An event's messages are keyed by its task id and ":".
		ns, err := t.store.NotificationsByKeyPrefix(ctx, taskID+":")
		if err != nil {
			return fmt.Errorf("read notifications: %w", err)
		}
		found = found || len(ns) > 0
		for _, n := range ns {
			fmt.Fprintf(w, "  message:   %s %s to %s: %s (attempts %d, sent %s)%s\n", n.Channel, n.Template,
				opsview.MaskRecipient(n), n.Status, n.Attempts, opsview.Stamp(n.SentAt), errSuffix(n.LastError))
		}
	}
	if !found {
		return fmt.Errorf("inspect: nothing known about %q: no request in the log, no task in Redis, no webhook_events row, no message (check the id: evt_... for Stripe, a MessageSid or MessageSid:MessageStatus for Twilio)", printable(id))
	}
	return nil
}

// maxInspectRequests bounds the requests inspect lists for one id.
const maxInspectRequests = 20

// inspectRequests prints the request log's entries for id and reports
// whether there were any.
func (t *tools) inspectRequests(ctx context.Context, w io.Writer, id string) (bool, error) {
	in := t.inspector()
	defer in.Close()
	rows, err := opsview.RequestsOf(ctx, t.sources(in), id, maxInspectRequests)
	if err != nil {
		return false, fmt.Errorf("read the request log: %w", err)
	}
	for _, r := range rows {
		fmt.Fprintf(w, "  request:   %s %s %s %d%s%s\n", opsview.Stamp(r.At), r.Provider, r.Outcome, r.Status,
			printable(suffixed(", ", r.Type)), printable(suffixed(", ", r.Reason)))
	}
	return len(rows) > 0, nil
}

func suffixed(sep, s string) string {
	if s == "" {
		return ""
	}
	return sep + s
}

// inspectStory prints booking id's story: every event and how it ended,
// transition, transaction and message, in order.
func inspectStory(ctx context.Context, e *env, id int64) error {
	t, err := openTools(ctx, e, true)
	if err != nil {
		return err
	}
	defer t.Close()
	in := t.inspector()
	defer in.Close()
	st, err := opsview.BookingStory(ctx, t.sources(in), id)
	if errors.Is(err, bookings.ErrNotFound) {
		return fmt.Errorf("inspect: no booking %d", id)
	}
	if err != nil {
		return fmt.Errorf("inspect booking %d: %w", id, err)
	}
	w := e.stdout
	fmt.Fprintf(w, "Booking %s\n  customer: %s\n", opsview.Summary(st.Booking), opsview.Customer(st.Booking))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, it := range st.Items {
		line := printable(st.Describe(it))
		if it.Event != nil {
			if ti, err := in.GetTaskInfo(tasks.QueueWebhooks, it.TaskID); err == nil {
				line += ", task " + opsview.TaskEnding(ti).String()
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", opsview.Stamp(it.At), it.Kind, line)
	}
	return tw.Flush()
}

// events returns the webhook_events rows of id: the event with that id,
// else, for a Twilio MessageSid, every status callback of the message
// (event ids MessageSid:MessageStatus).
func (t *tools) events(ctx context.Context, id string) ([]bookings.EventRecord, error) {
	evs, err := t.store.Events(ctx, bookings.EventFilter{EventID: id, Limit: 10})
	if err != nil || len(evs) > 0 || strings.Contains(id, ":") {
		return evs, err
	}
	return t.store.Events(ctx, bookings.EventFilter{Source: "twilio", EventIDPrefix: tasks.TwilioEventID(id, ""), Limit: 20})
}

// inspectTasks prints the Asynq tasks among taskIDs and returns the booking
// id a Stripe payload names, if any, and whether any task was found.
func (t *tools) inspectTasks(w io.Writer, taskIDs []string) (int64, bool) {
	in := t.inspector()
	defer in.Close()
	var bookingID int64
	found := false
	for _, taskID := range taskIDs {
		ti, err := in.GetTaskInfo(tasks.QueueWebhooks, taskID)
		if err != nil {
			continue
		}
		found = true
		fmt.Fprintf(w, "  task:      %s %s in queue %s: %s, attempts %d of %d%s\n", ti.Type, ti.ID, ti.Queue, ti.State,
			ti.Retried+boolInt(ti.State != asynq.TaskStatePending && ti.State != asynq.TaskStateScheduled), ti.MaxRetry+1, taskErrSuffix(ti))
		if !ti.NextProcessAt.IsZero() && ti.State != asynq.TaskStateCompleted {
			fmt.Fprintf(w, "             next run %s\n", opsview.Stamp(ti.NextProcessAt))
		}
		var ev tasks.StripeEvent
		if bookingID == 0 && json.Unmarshal(ti.Payload, &ev) == nil {
			bookingID = ev.Object.BookingID()
		}
	}
	if !found {
		fmt.Fprintln(w, "  task:      not in Redis (never queued, or completed more than an hour ago)")
	}
	return bookingID, found
}

// taskErrSuffix shows a task's last error as current only while it is: a
// task retrying or archived failed with it; one queued or running again
// (replayed, or a retry now due) or completed since carries it from
// before.
func taskErrSuffix(ti *asynq.TaskInfo) string {
	switch {
	case ti.LastErr == "":
		return ""
	case ti.State == asynq.TaskStateCompleted:
		return ", last error (before it completed): " + ti.LastErr
	case ti.State == asynq.TaskStatePending || ti.State == asynq.TaskStateActive:
		return ", last error (before replay or retry): " + ti.LastErr
	}
	return errSuffix(ti.LastErr)
}

func (t *tools) inspectBooking(ctx context.Context, w io.Writer, id int64, eventID string) {
	b, err := t.store.Booking(ctx, id)
	if err != nil {
		fmt.Fprintf(w, "  booking:   %d (%v)\n", id, err)
		return
	}
	fmt.Fprintf(w, "  booking:   #%d %s, deposit %s paid=%v refunded=%v, sms %s delivered=%v%s\n", b.ID, b.Status,
		notifications.FormatAmount(b.DepositAmount, b.DepositCurrency), b.DepositPaid, b.DepositRefunded,
		opsview.Dash(b.SMSStatus), b.SMSDelivered, holdSuffix(b))
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
		return ", auto-cancel at " + opsview.Stamp(b.HoldExpiresAt)
	case b.Status == bookings.StatusCancelled:
		return ", cancelled " + opsview.Stamp(b.CancelledAt) + " (" + opsview.Dash(b.CancelReason) + ")"
	}
	return ""
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
