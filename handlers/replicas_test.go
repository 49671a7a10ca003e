package handlers_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/verify"
)

// TestMinReplicas: with REDIS_MIN_REPLICAS=1 a webhook is answered 200
// while the replica keeps up, and 503 within 5 seconds while it is paused
// (counted as a short wait); the sender's retry once the replica is back is
// a 200 duplicate, and the task was queued once.
func TestMinReplicas(t *testing.T) {
	primary := redistest.StartServer(t)
	replica := redistest.StartReplica(t, primary)
	r, err := queue.Open(context.Background(), primary.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	f := newFixture(t, func(_ *handlers.Config, d *handlers.Deps) {
		in := queue.NewIngress(r, time.Minute, time.Hour)
		if err := in.RequireReplicas(1, d.Metrics.ObserveReplicaWait); err != nil {
			t.Fatal(err)
		}
		d.Queue, d.Redis = in, r
	})
	f.redis = r // f.tasks reads the primary
	waits := func(outcome string) float64 {
		return testutil.ToFloat64(f.metrics.ReplicaWaits.WithLabelValues(outcome))
	}
	post := func(id string) (int, time.Duration) {
		body := stripeEvent(id, "payment_intent.succeeded")
		start := time.Now()
		code, _ := f.postStripe(t, body, verify.SignStripe(body, stripeSecret, f.now))
		return code, time.Since(start)
	}

	if code, _ := post("evt_replicated"); code != http.StatusOK {
		t.Fatalf("with the replica up: status %d, want 200", code)
	}
	if got := waits(metrics.ReplicasConfirmed); got != 1 {
		t.Errorf("confirmed waits = %v, want 1", got)
	}

	replica.Pause(t)
	t.Cleanup(func() { replica.Resume(t) })
	if code, took := post("evt_paused"); code != http.StatusServiceUnavailable || took > 5*time.Second {
		t.Fatalf("with the replica paused: status %d after %v, want 503 within 5s", code, took)
	}
	if got := waits(metrics.ReplicasShort); got != 1 {
		t.Errorf("short waits = %v, want 1", got)
	}
	if got := testutil.ToFloat64(f.metrics.Webhooks.WithLabelValues("stripe", metrics.OutcomeUnavailable)); got != 1 {
		t.Errorf("unavailable webhooks = %v, want 1", got)
	}

	replica.Resume(t)
	if code, _ := post("evt_paused"); code != http.StatusOK {
		t.Fatalf("the sender's retry with the replica back: status %d, want 200", code)
	}
	if got := testutil.ToFloat64(f.metrics.Webhooks.WithLabelValues("stripe", metrics.OutcomeDuplicate)); got != 1 {
		t.Errorf("duplicate webhooks = %v, want 1 (the retry of the event answered 503)", got)
	}
	if n := len(f.tasks(t)); n != 2 {
		t.Errorf("pending tasks = %d, want 2", n)
	}
}
