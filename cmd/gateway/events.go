package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/queue"
)

// tools is what the operator commands open: the store, and Redis on demand.
type tools struct {
	store bookings.Store
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

func runEvents(ctx context.Context, e *env, args []string) error {
	fs := e.flags("events", "usage: gateway events [--source stripe|twilio] [--type TYPE] [--booking ID] [--limit N]\n\nList recent webhook events applied to bookings, newest first.")
	var f bookings.EventFilter
	fs.StringVar(&f.Source, "source", "", "only this source: stripe or twilio")
	fs.StringVar(&f.Type, "type", "", "only this event type, e.g. payment_intent.succeeded")
	fs.Int64Var(&f.BookingID, "booking", 0, "only events of this booking id")
	fs.IntVar(&f.Limit, "limit", 50, "at most this many, newest first")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkEventFilter(f, fs.Args()); err != nil {
		fs.Usage()
		return err
	}
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

// maxEventsLimit bounds --limit.
const maxEventsLimit = 1000

// eventType is what an event type looks like (payment_intent.succeeded,
// sms.delivered).
var eventType = regexp.MustCompile(`^[a-z0-9_]+(\.[a-z0-9_]+)*$`)

// checkEventFilter refuses filters that can only match nothing by mistake:
// an unknown source, a malformed type, a booking id or limit below 1.
func checkEventFilter(f bookings.EventFilter, rest []string) error {
	var errs []error
	switch f.Source {
	case "", "stripe", "twilio":
	default:
		errs = append(errs, fmt.Errorf("events: --source %q: want stripe or twilio", f.Source))
	}
	if f.Type != "" && !eventType.MatchString(f.Type) {
		errs = append(errs, fmt.Errorf("events: --type %q: want an event type like payment_intent.succeeded", f.Type))
	}
	if f.BookingID < 0 {
		errs = append(errs, fmt.Errorf("events: --booking %d: want a booking id (1 or more)", f.BookingID))
	}
	if f.Limit < 1 || f.Limit > maxEventsLimit {
		errs = append(errs, fmt.Errorf("events: --limit %d: want 1 to %d", f.Limit, maxEventsLimit))
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
		booking := "-"
		if ev.BookingID != 0 {
			booking = fmt.Sprint(ev.BookingID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", stamp(ev.ReceivedAt), ev.Source, ev.Type, ev.ID,
			booking, dash(ev.Outcome), stamp(ev.ProcessedAt))
	}
	tw.Flush()
	if len(evs) == 0 {
		fmt.Fprintln(w, "(no events)")
	}
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
