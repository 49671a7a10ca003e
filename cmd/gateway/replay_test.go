package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/sqlite"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/tasks"
	"github.com/reserveeasy/gateway/verify"
)

// TestReplayArchivedTaskAppliesOnce: an event for a booking this database
// does not have yet is archived; once the booking exists, `gateway replay`
// runs it again and it is applied exactly once, however often it is replayed.
func TestReplayArchivedTaskAppliesOnce(t *testing.T) {
	const secret = "whsec_replay"
	redisURL := redistest.URL(t, redistest.DBCommand)
	dbPath := filepath.Join(t.TempDir(), "gw.db")
	env := map[string]string{"REDIS_URL": redisURL, "DATABASE_URL": "sqlite:" + dbPath, "STRIPE_WEBHOOK_SECRET": secret}
	g := startGateway(t, []string{"serve"}, env)

	body := `{"id":"evt_replay","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_replay","object":"payment_intent","amount":6000,"currency":"usd","metadata":{"booking_id":"424242"}}}}`
	hdr := http.Header{"Stripe-Signature": {verify.SignStripe([]byte(body), secret, time.Now())}}
	if code, resp := g.do(http.MethodPost, handlers.StripePath, "application/json", hdr, body); code != http.StatusOK {
		t.Fatalf("post: %d %s", code, resp)
	}
	r, err := queue.Open(context.Background(), redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	in := asynq.NewInspector(r.ConnOpt)
	defer in.Close()
	state := func() string {
		ti, err := in.GetTaskInfo(tasks.QueueWebhooks, "stripe:evt_replay")
		if err != nil {
			return err.Error()
		}
		return ti.State.String()
	}
	eventually(t, 20*time.Second, func() string {
		if s := state(); s != "archived" {
			return "task state " + s
		}
		return ""
	})

	store, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.DB().Exec(`INSERT INTO bookings (id, customer_name, customer_phone, customer_email, status, deposit_amount, deposit_currency)
		VALUES (424242, 'Late Booking', '+15550009999', 'late@example.com', 'payment_pending', 6000, 'usd')`); err != nil {
		t.Fatal(err)
	}
	for i, wants := range [][]string{
		{"1 task(s) queued again"},
		// A completed event says why nothing was queued.
		{"evt_replay is completed, not archived: nothing to replay", "0 task(s) queued again"},
	} {
		var out outputBuffer
		if err := run(context.Background(), []string{"replay", "--event", "evt_replay"}, gatewayEnv(env), &out, &out); err != nil {
			t.Fatalf("replay %d: %v\n%s", i, err, out.String())
		}
		for _, want := range wants {
			if !strings.Contains(out.String(), want) {
				t.Errorf("replay %d printed %q, want %q", i, out.String(), want)
			}
		}
		eventually(t, 20*time.Second, func() string {
			if b, err := store.Booking(context.Background(), 424242); err != nil || !b.DepositPaid {
				return fmt.Sprintf("booking not paid yet (%v)", err)
			}
			if s := state(); s != "completed" {
				return "task state " + s
			}
			return ""
		})
	}
	// After the replay, inspect does not show the error of the archived
	// run as the current one.
	var insp outputBuffer
	if err := run(context.Background(), []string{"inspect", "evt_replay"}, gatewayEnv(env), &insp, &insp); err != nil {
		t.Fatalf("inspect: %v\n%s", err, insp.String())
	}
	if !strings.Contains(insp.String(), "completed") || !strings.Contains(insp.String(), "last error (before it completed): ") ||
		strings.Contains(insp.String(), ", last error: ") {
		t.Errorf("inspect after the replay shows a stale error as current:\n%s", insp.String())
	}
	var none outputBuffer
	if err := run(context.Background(), []string{"replay", "--event", "evt_never"}, gatewayEnv(env), &none, &none); err != nil ||
		!strings.Contains(none.String(), "evt_never has no task in Redis: nothing to replay") {
		t.Errorf("replay of an unknown event: %v\n%s", err, none.String())
	}
	txs, err := store.Transactions(context.Background(), 424242)
	if err != nil || len(txs) != 1 {
		t.Errorf("transactions = %+v, %v; want exactly one", txs, err)
	}
	evs, err := store.Events(context.Background(), bookings.EventFilter{EventID: "evt_replay"})
	if err != nil || len(evs) != 1 {
		t.Errorf("webhook_events = %+v, %v; want exactly one", evs, err)
	}
	var out outputBuffer
	if err := run(context.Background(), []string{"replay"}, gatewayEnv(env), &out, &out); err == nil || errors.Is(err, context.Canceled) {
		t.Errorf("replay without a selector: err = %v, want a usage error", err)
	}
}
