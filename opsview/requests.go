// Package opsview answers the operator's questions from the request log,
// the database and the queue: which webhook requests came and how each
// event ended, and a booking's whole story. cmd/gateway prints the answers
// (gateway events, gateway inspect) and serves them as HTML pages under
// /ops/ (Handler).
package opsview

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/tasks"
)

// RequestLog reads the request log, newest first (queue.RequestLog).
type RequestLog interface {
	List(ctx context.Context, before string, count int64) ([]tasks.Request, error)
}

// TaskLookup finds a task in Asynq (asynq.Inspector).
type TaskLookup interface {
	GetTaskInfo(queue, id string) (*asynq.TaskInfo, error)
}

// Sources is what the views read.
type Sources struct {
	Log     RequestLog
	Store   bookings.Store
	History bookings.History
	Tasks   TaskLookup
}

// Outcomes are the outcomes a request can have, those of
// gateway_webhooks_total.
var Outcomes = []string{metrics.OutcomeAccepted, metrics.OutcomeDuplicate, metrics.OutcomeIgnored,
	metrics.OutcomeInvalidSignature, metrics.OutcomeBadRequest, metrics.OutcomeTooLarge, metrics.OutcomeUnavailable}

// Providers are the senders of webhooks.
var Providers = []string{"stripe", "twilio"}

// MaxLimit bounds how many requests one listing returns.
const MaxLimit = 1000

// EventType is what an event type looks like (payment_intent.succeeded, a
// Twilio MessageStatus such as delivered).
var EventType = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)

// Filter narrows a listing of the request log. Zero fields match
// everything.
type Filter struct {
	Outcome  string
	Provider string
	// Type is the Stripe event type or the Twilio MessageStatus.
	Type      string
	BookingID int64
	// Since drops requests answered before it.
	Since time.Time
	Limit int
}

// Validate refuses filters that can only match nothing by mistake, naming
// each flag that is wrong.
func (f Filter) Validate() error {
	var errs []error
	if f.Outcome != "" && !contains(Outcomes, f.Outcome) {
		errs = append(errs, fmt.Errorf("--outcome %q: want one of %v", f.Outcome, Outcomes))
	}
	if f.Provider != "" && !contains(Providers, f.Provider) {
		errs = append(errs, fmt.Errorf("--provider %q: want stripe or twilio", f.Provider))
	}
	if f.Type != "" && !EventType.MatchString(f.Type) {
		errs = append(errs, fmt.Errorf("--type %q: want an event type like payment_intent.succeeded or a Twilio status like delivered", f.Type))
	}
	if f.BookingID < 0 {
		errs = append(errs, fmt.Errorf("--booking %d: want a booking id (1 or more)", f.BookingID))
	}
	if f.Limit < 1 || f.Limit > MaxLimit {
		errs = append(errs, fmt.Errorf("--limit %d: want 1 to %d", f.Limit, MaxLimit))
	}
	return errors.Join(errs...)
}

func contains(set []string, s string) bool {
	for _, v := range set {
		if v == s {
			return true
		}
	}
	return false
}

// Row is one request of the log and, for an accepted or duplicate one, how
// its event ended.
type Row struct {
	tasks.Request
	Ending Ending
}

// Ending is how an event ended (or stands): applied, per webhook_events,
// else the state of its task in Asynq.
type Ending struct {
	// State is applied, queued, running, scheduled, retrying, archived,
	// completed, or unknown (no row, no task: it may have expired from
	// Redis), or "" for a request that queued nothing.
	State string
	// Detail is the outcome of an applied event, or the task's last error.
	Detail string
}

func (e Ending) String() string {
	if e.State == "" {
		return "-"
	}
	if e.Detail == "" {
		return e.State
	}
	return e.State + " (" + e.Detail + ")"
}

// pageSize is how many entries one read of the log takes.
const pageSize = 500

// Requests lists the requests matching f, newest first, each accepted or
// duplicate one with how its event ended. It reads the log from its newest
// entry back to f.Since (all of it, at most tasks.RequestLogMaxLen
// entries, when Since is zero).
func Requests(ctx context.Context, src Sources, f Filter) ([]Row, error) {
	match, err := matcher(ctx, src, f)
	if err != nil {
		return nil, err
	}
	return scan(ctx, src, f.Since, f.Limit, match)
}

// RequestsOf lists the requests of one event or message, newest first: id
// is a Stripe event id, a Twilio event id (MessageSid:MessageStatus) or a
// MessageSid.
func RequestsOf(ctx context.Context, src Sources, id string, limit int) ([]Row, error) {
	return scan(ctx, src, time.Time{}, limit, func(r tasks.Request) bool {
		return r.EventID == id || r.MessageSID == id
	})
}

// scan reads the log, newest first, back to since, and returns up to limit
// entries that match, with their endings.
func scan(ctx context.Context, src Sources, since time.Time, limit int, match func(tasks.Request) bool) ([]Row, error) {
	var out []Row
	before := ""
	for read := 0; read < tasks.RequestLogMaxLen && len(out) < limit; {
		page, err := src.Log.List(ctx, before, pageSize)
		if err != nil {
			return nil, err
		}
		for _, r := range page {
			if !since.IsZero() && r.At.Before(since) {
				return out, nil
			}
			if !match(r) {
				continue
			}
			row := Row{Request: r}
			if row.Ending, err = EventEnding(ctx, src, r.Provider, r.EventID, r.TaskID, r.Outcome); err != nil {
				return nil, err
			}
			if out = append(out, row); len(out) == limit {
				return out, nil
			}
		}
		if len(page) < pageSize {
			break
		}
		read += len(page)
		before = page[len(page)-1].ID
	}
	return out, nil
}

// matcher returns the test of f. A Twilio callback names no booking: with
// a booking filter, it matches the callbacks of the booking's messages
// (its sms_message_sid and its notifications' provider ids).
func matcher(ctx context.Context, src Sources, f Filter) (func(tasks.Request) bool, error) {
	sids := map[string]bool{}
	if f.BookingID != 0 {
		tl, err := src.History.Timeline(ctx, f.BookingID)
		if err != nil && !errors.Is(err, bookings.ErrNotFound) {
			return nil, err
		}
		if tl.Booking.SMSMessageSID != "" {
			sids[tl.Booking.SMSMessageSID] = true
		}
		for _, e := range tl.Entries {
			if e.Notification != nil && e.Notification.ProviderID != "" {
				sids[e.Notification.ProviderID] = true
			}
		}
	}
	return func(r tasks.Request) bool {
		switch {
		case f.Outcome != "" && r.Outcome != f.Outcome,
			f.Provider != "" && r.Provider != f.Provider,
			f.Type != "" && r.Type != f.Type && "sms."+r.Type != f.Type:
			return false
		case f.BookingID != 0:
			return r.BookingID == f.BookingID || (r.MessageSID != "" && sids[r.MessageSID])
		}
		return true
	}, nil
}

// EventEnding tells how the event of a request ended: applied (with its
// outcome) when webhook_events has it, else the state of its task. A
// request that queued nothing (outcome other than accepted or duplicate)
// has no ending.
func EventEnding(ctx context.Context, src Sources, provider, eventID, taskID, outcome string) (Ending, error) {
	if outcome != metrics.OutcomeAccepted && outcome != metrics.OutcomeDuplicate {
		return Ending{}, nil
	}
	if eventID != "" {
		evs, err := src.Store.Events(ctx, bookings.EventFilter{Source: provider, EventID: eventID, Limit: 1})
		if err != nil {
			return Ending{}, fmt.Errorf("read webhook_events: %w", err)
		}
		if len(evs) > 0 && !evs[0].ProcessedAt.IsZero() {
			return Ending{State: "applied", Detail: evs[0].Outcome}, nil
		}
	}
	if taskID == "" && eventID != "" {
		taskID = tasks.TaskID(provider, eventID)
	}
	if taskID == "" || src.Tasks == nil {
		return Ending{State: "unknown"}, nil
	}
	ti, err := src.Tasks.GetTaskInfo(tasks.QueueWebhooks, taskID)
	if err != nil {
		// Not found, or Redis down: the log says it was queued, nothing
		// more is known.
		return Ending{State: "unknown", Detail: "no task in Redis"}, nil
	}
	return TaskEnding(ti), nil
}

// TaskEnding is the ending a task's state tells.
func TaskEnding(ti *asynq.TaskInfo) Ending {
	switch ti.State {
	case asynq.TaskStatePending:
		return Ending{State: "queued"}
	case asynq.TaskStateActive:
		return Ending{State: "running"}
	case asynq.TaskStateScheduled:
		return Ending{State: "scheduled"}
	case asynq.TaskStateRetry:
		return Ending{State: "retrying", Detail: ti.LastErr}
	case asynq.TaskStateArchived:
		return Ending{State: "archived", Detail: ti.LastErr}
	case asynq.TaskStateCompleted:
		return Ending{State: "completed"}
	}
	return Ending{State: ti.State.String()}
}
