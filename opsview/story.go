package opsview

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

// Story is a booking's timeline with the requests that named it but did not
// end applied (retrying, archived, ignored): the whole story support asks
// for.
type Story struct {
	Booking bookings.Booking
	Items   []Item
}

// Item is one line of a story: a timeline entry, or (Kind "request") a
// request whose event was not applied.
type Item struct {
	bookings.Entry
	// TaskID is the Asynq task of an event or request, "" when none.
	TaskID string
	// Request is set on request items.
	Request *Row
}

// KindRequest is the kind of story items that are requests not applied.
const KindRequest bookings.EntryKind = "request"

// maxStoryRequests bounds the requests one story shows.
const maxStoryRequests = 200

// BookingStory returns booking id's story, or bookings.ErrNotFound.
func BookingStory(ctx context.Context, src Sources, id int64) (Story, error) {
	tl, err := src.History.Timeline(ctx, id)
	if err != nil {
		return Story{}, err
	}
	st := Story{Booking: tl.Booking}
	for _, e := range tl.Entries {
		it := Item{Entry: e}
		if e.Event != nil {
			it.TaskID = tasks.TaskID(e.Event.Source, e.Event.ID)
		}
		st.Items = append(st.Items, it)
	}
	if src.Log == nil {
		return st, nil
	}
	rows, err := Requests(ctx, src, Filter{BookingID: id, Limit: maxStoryRequests})
	if err != nil {
		return Story{}, err
	}
	for i := range rows {
		r := &rows[i]
		if r.Ending.State == "applied" {
			continue // its event is in the timeline already
		}
		what := fmt.Sprintf("%s %s %s: %s %d", r.Provider, Dash(r.Type), Dash(r.EventID), r.Outcome, r.Status)
		if r.Ending.State != "" {
			what += ", event " + r.Ending.String()
		}
		if r.Reason != "" {
			what += ", " + r.Reason
		}
		st.Items = append(st.Items, Item{Entry: bookings.Entry{At: r.At, Kind: KindRequest, What: what}, TaskID: r.TaskID, Request: r})
	}
	sort.SliceStable(st.Items, func(i, j int) bool { return st.Items[i].At.Before(st.Items[j].At) })
	return st, nil
}

// Dash is how the views show an empty string: "-".
func Dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Describe is one line telling what an item of st is, contacts masked.
func (st Story) Describe(it Item) string {
	switch e := it.Entry; {
	case e.Event != nil:
		ev := e.Event
		return fmt.Sprintf("%s %s %s: applied (%s) at %s", ev.Source, ev.Type, ev.ID, Dash(ev.Outcome), Stamp(ev.ProcessedAt))
	case e.Transaction != nil:
		tx := e.Transaction
		return fmt.Sprintf("%s %s (%s, event %s)", tx.Kind, notifications.FormatAmount(tx.Amount, tx.Currency),
			Dash(tx.StripeObjectID), Dash(tx.StripeEventID))
	case e.Notification != nil:
		return DescribeMessage(*e.Notification)
	case e.Kind == bookings.EntryCreated:
		b := st.Booking
		return "booking created, deposit " + notifications.FormatAmount(b.DepositAmount, b.DepositCurrency)
	}
	return it.What
}

// DescribeMessage tells a message's own outcome (not its event's): status,
// provider id, attempts and last error, its recipient masked.
func DescribeMessage(n bookings.Notification) string {
	s := fmt.Sprintf("%s %s to %s: %s", n.Channel, n.Template, MaskRecipient(n), n.Status)
	if n.ProviderID != "" {
		s += ", provider id " + n.ProviderID
	}
	s += fmt.Sprintf(", attempts %d", n.Attempts)
	if !n.SentAt.IsZero() {
		s += ", sent " + Stamp(n.SentAt)
	}
	if n.LastError != "" {
		s += ", last error: " + n.LastError
	}
	return s
}

// MaskRecipient is a message's recipient as the ops UI shows it.
func MaskRecipient(n bookings.Notification) string {
	if n.Channel == bookings.ChannelSMS {
		return notifications.MaskPhone(n.Recipient)
	}
	if n.Recipient == "" {
		return "(log only)"
	}
	return notifications.MaskEmail(n.Recipient)
}

// Stamp is how the views show a time: UTC to the second, "-" for none.
func Stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// Summary is a booking's state in one line, its customer masked.
func Summary(b bookings.Booking) string {
	s := fmt.Sprintf("#%d %s, deposit %s paid=%v refunded=%v, sms %s delivered=%v", b.ID, b.Status,
		notifications.FormatAmount(b.DepositAmount, b.DepositCurrency), b.DepositPaid, b.DepositRefunded,
		Dash(b.SMSStatus), b.SMSDelivered)
	switch {
	case !b.HoldExpiresAt.IsZero() && b.Status == bookings.StatusPaymentPending:
		s += ", auto-cancel at " + Stamp(b.HoldExpiresAt)
	case b.Status == bookings.StatusCancelled:
		s += ", cancelled " + Stamp(b.CancelledAt) + " (" + Dash(b.CancelReason) + ")"
	}
	return s
}

// Customer is a booking's customer, masked.
func Customer(b bookings.Booking) string {
	email := "-"
	if b.CustomerEmail != "" {
		email = notifications.MaskEmail(b.CustomerEmail)
	}
	return fmt.Sprintf("%s, %s, %s", notifications.MaskName(b.CustomerName), notifications.MaskPhone(b.CustomerPhone), email)
}
