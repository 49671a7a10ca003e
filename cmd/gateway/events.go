package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/opsview"
	"github.com/reserveeasy/gateway/queue"
)

// tools is what the operator commands open: the store, and Redis on demand.
type tools struct {
	store migrator
	redis *queue.Redis
}

func openTools(ctx context.Context, e *env, withRedis bool) (*tools, error) {
	cfg, _, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	s, err := openStore(ctx, cfg.DatabaseURL, cfg.Migrate, false)
	if err != nil {
		return nil, err
	}
	t := &tools{store: s}
	if !withRedis {
		return t, nil
	}
	u, err := redisURLForTools(cfg)
	if err == nil {
		t.redis, err = queue.Open(ctx, u)
	}
	if err == nil {
		if err = t.redis.Ping(ctx); err != nil {
			t.redis.Close()
		}
	}
	if err != nil {
		s.Close()
		return nil, err
	}
	return t, nil
}

func (t *tools) Close() {
	if t.redis != nil {
		t.redis.Close()
	}
	t.store.Close()
}

func (t *tools) inspector() *asynq.Inspector { return asynq.NewInspector(t.redis.ConnOpt) }

const eventsUsage = `usage: gateway events [--outcome O] [--provider stripe|twilio] [--type TYPE] [--booking ID] [--since 1h|TIME] [--limit N]
       gateway events --applied [--source stripe|twilio] [--type TYPE] [--booking ID] [--limit N]

List recent webhook requests from the request log, newest first: every
request whatever its outcome (accepted, duplicate, ignored,
invalid_signature, bad_request, too_large, unavailable), and for accepted and
duplicate ones how the event ended (applied, or its task's state in the queue:
queued, retrying, archived, with the last error).

With --applied (or --source), list the events applied to bookings
(webhook_events) instead.`

func runEvents(ctx context.Context, e *env, args []string) error {
	fs := e.flags("events", eventsUsage)
	var f opsview.Filter
	var ef bookings.EventFilter
	var since string
	var applied bool
	fs.StringVar(&f.Outcome, "outcome", "", "only requests with this outcome: "+strings.Join(opsview.Outcomes, ", "))
	fs.StringVar(&f.Provider, "provider", "", "only requests from this provider: stripe or twilio")
	fs.StringVar(&f.Type, "type", "", "only this event type, e.g. payment_intent.succeeded, or Twilio status, e.g. delivered")
	fs.Int64Var(&f.BookingID, "booking", 0, "only requests (events) of this booking id")
	fs.StringVar(&since, "since", "", "only requests since this long ago (1h, 30m) or this time (RFC 3339)")
	fs.IntVar(&f.Limit, "limit", 50, "at most this many, newest first")
	fs.BoolVar(&applied, "applied", false, "list the events applied to bookings (webhook_events)")
	fs.StringVar(&ef.Source, "source", "", "with --applied: only this source, stripe or twilio (implies --applied)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if applied || ef.Source != "" {
		ef.Type, ef.BookingID, ef.Limit = f.Type, f.BookingID, f.Limit
		if err := checkEventFilter(ef, fs.Args()); err != nil {
			fs.Usage()
			return err
		}
		return listApplied(ctx, e, ef)
	}
	var errs []error
	var err error
	if f.Since, err = parseSince(since, time.Now()); err != nil {
		errs = append(errs, err)
	}
	if err := f.Validate(); err != nil {
		errs = append(errs, err)
	}
	if fs.NArg() > 0 {
		errs = append(errs, fmt.Errorf("unexpected argument %q (filters are flags: --outcome, --provider, --type, --booking, --since, --limit)", fs.Arg(0)))
	}
	if err := errors.Join(errs...); err != nil {
		fs.Usage()
		return fmt.Errorf("events: %w", err)
	}
	t, err := openTools(ctx, e, true)
	if err != nil {
		return err
	}
	defer t.Close()
	in := t.inspector()
	defer in.Close()
	rows, err := opsview.Requests(ctx, t.sources(in), f)
	if err != nil {
		return fmt.Errorf("list requests: %w", err)
	}
	printRequests(e.stdout, rows)
	return nil
}

// parseSince reads --since: a duration back from now, or a time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration like 1h or a time like 2025-03-01T18:00:00Z", s)
}

// sources is what the views read, over this tool's store and Redis.
func (t *tools) sources(in *asynq.Inspector) opsview.Sources {
	src := opsview.Sources{Store: t.store, History: t.store}
	if t.redis != nil {
		src.Log, src.Tasks = queue.NewRequestLog(t.redis), in
	}
	return src
}

func listApplied(ctx context.Context, e *env, f bookings.EventFilter) error {
	t, err := openTools(ctx, e, false)
	if err != nil {
		return err
	}
	defer t.Close()
	evs, err := t.store.Events(ctx, f)
	if err != nil {
		return fmt.Errorf("list events: %w", err)
	}
	printEvents(e.stdout, evs)
	return nil
}

func printRequests(w io.Writer, rows []opsview.Row) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tPROVIDER\tOUTCOME\tSTATUS\tTYPE\tEVENT ID\tBOOKING\tEVENT ENDED\tREASON")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n", opsview.Stamp(r.At), r.Provider, r.Outcome, r.Status,
			printable(opsview.Dash(r.Type)), printable(opsview.Dash(r.EventID)), bookingCell(r.BookingID), printable(r.Ending.String()), printable(opsview.Dash(r.Reason)))
	}
	tw.Flush()
	if len(rows) == 0 {
		fmt.Fprintln(w, "(no requests)")
	}
}

// printable replaces what a terminal would interpret (control characters)
// in sender-controlled text, and tabs that would break the columns.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return '?'
		}
		return r
	}, s)
}

// checkEventFilter refuses filters that can only match nothing by mistake:
// an unknown source, a malformed type, a booking id or limit below 1.
func checkEventFilter(f bookings.EventFilter, rest []string) error {
	var errs []error
	switch f.Source {
	case "", "stripe", "twilio":
	default:
		errs = append(errs, fmt.Errorf("events: --source %q: want stripe or twilio", f.Source))
	}
	if f.Type != "" && !opsview.EventType.MatchString(f.Type) {
		errs = append(errs, fmt.Errorf("events: --type %q: want an event type like payment_intent.succeeded", f.Type))
	}
	if f.BookingID < 0 {
		errs = append(errs, fmt.Errorf("events: --booking %d: want a booking id (1 or more)", f.BookingID))
	}
	if f.Limit < 1 || f.Limit > opsview.MaxLimit {
		errs = append(errs, fmt.Errorf("events: --limit %d: want 1 to %d", f.Limit, opsview.MaxLimit))
	}
	if len(rest) > 0 {
		errs = append(errs, fmt.Errorf("events: unexpected argument %q (filters are flags: --source, --type, --booking, --limit)", rest[0]))
	}
	return errors.Join(errs...)
}

func printEvents(w io.Writer, evs []bookings.EventRecord) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RECEIVED\tSOURCE\tTYPE\tEVENT ID\tBOOKING\tOUTCOME\tPROCESSED")
	for _, ev := range evs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", opsview.Stamp(ev.ReceivedAt), ev.Source, ev.Type, ev.ID,
			bookingCell(ev.BookingID), opsview.Dash(ev.Outcome), opsview.Stamp(ev.ProcessedAt))
	}
	tw.Flush()
	if len(evs) == 0 {
		fmt.Fprintln(w, "(no events)")
	}
}

// bookingCell is a booking id in a listing's column, "-" for none.
func bookingCell(id int64) string {
	if id == 0 {
		return "-"
	}
	return fmt.Sprint(id)
}
