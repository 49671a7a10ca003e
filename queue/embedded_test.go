package queue_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/tasks"
)

// The embedded Redis of `gateway serve` keeps the gateway's whole queue in
// its own heap: completed tasks (kept an hour), seen keys (kept
// DEDUPE_TTL) and the request log must not grow with every event. Many
// events go through it, the way the gateway puts them (Ingress, a worker
// marking them seen or archiving them, a request log entry each); after each batch the
// number of keys, the completed tasks and the log's length stay within the
// limits, however many events went before.
func TestEmbeddedRedisStaysBounded(t *testing.T) {
	r := openEmbedded(t)
	limits := queue.EmbeddedLimits{Completed: 50, Archived: 30, Seen: 200, Requests: 100}
	r.SetEmbeddedLimits(limits)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	mux := asynq.NewServeMux()
	mux.HandleFunc("bench:noop", func(ctx context.Context, task *asynq.Task) error {
		id, _ := asynq.GetTaskID(ctx)
		if strings.HasSuffix(id, "3") { // no such booking: archived at once
			return fmt.Errorf("no booking: %w", asynq.SkipRetry)
		}
		return r.Client.Set(ctx, tasks.SeenKey(id), 1, 168*time.Hour).Err()
	})
	startWorker(t, r, mux, tasks.QueueWebhooks)
	in := queue.NewIngress(r, time.Hour, 168*time.Hour)
	log := queue.NewRequestLog(r)
	insp := asynq.NewInspectorFromRedisClient(r.Client)

	const batches, perBatch = 8, 250
	// The keys that are not per event: Asynq's queue set, stats, server
	// and worker records, the request log stream.
	const fixed = 20
	for b := range batches {
		for i := range perBatch {
			id := fmt.Sprintf("evt_bounded_%d_%d", b, i)
			task := asynq.NewTask("bench:noop", []byte(`{}`), asynq.Queue(tasks.QueueWebhooks))
			if _, err := in.Enqueue(ctx, id, task); err != nil {
				t.Fatalf("enqueue %s: %v", id, err)
			}
			if err := log.Add(ctx, tasks.Request{At: time.Now(), Provider: "stripe", Outcome: "accepted", Status: 200, EventID: id}); err != nil {
				t.Fatalf("request log: %v", err)
			}
		}
		want := (b + 1) * perBatch
		waitFor(t, fmt.Sprintf("batch %d completed", b), func() bool {
			qi, err := insp.GetQueueInfo(tasks.QueueWebhooks)
			return err == nil && qi.Processed >= want && qi.Pending == 0 && qi.Active == 0 && qi.Retry == 0
		})
		if _, err := r.TrimEmbedded(ctx); err != nil {
			t.Fatalf("TrimEmbedded: %v", err)
		}
		keys := len(r.Embedded.Keys())
		completed, err := r.Client.ZCard(ctx, "asynq:{"+tasks.QueueWebhooks+"}:completed").Result()
		if err != nil {
			t.Fatal(err)
		}
		archived, err := r.Client.ZCard(ctx, "asynq:{"+tasks.QueueWebhooks+"}:archived").Result()
		if err != nil {
			t.Fatal(err)
		}
		logLen, err := r.Client.XLen(ctx, tasks.RequestsStream).Result()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("after %d events: %d keys, %d completed tasks, %d archived, %d request log entries", want, keys, completed, archived, logLen)
		if completed > int64(limits.Completed) || archived > int64(limits.Archived) || logLen > limits.Requests {
			t.Errorf("after %d events: %d completed tasks (limit %d), %d archived (limit %d), %d request log entries (limit %d)",
				want, completed, limits.Completed, archived, limits.Archived, logLen, limits.Requests)
		}
		if bound := limits.Completed + limits.Archived + limits.Seen + fixed; keys > bound {
			t.Fatalf("after %d events the embedded Redis holds %d keys, more than %d (completed + archived + seen limits + %d): it grows with every event",
				want, keys, bound, fixed)
		}
	}
	// The newest events are still known: their seen keys were kept.
	if dup, err := in.Enqueue(ctx, fmt.Sprintf("evt_bounded_%d_%d", batches-1, perBatch-2),
		asynq.NewTask("bench:noop", []byte(`{}`), asynq.Queue(tasks.QueueWebhooks))); err != nil || !dup {
		t.Errorf("the newest event again: duplicate %v, %v; want a duplicate", dup, err)
	}
}

// On a real Redis, TrimEmbedded leaves everything alone.
func TestTrimEmbeddedOnRealRedisIsANoop(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, url string) {
		if r.Embedded != nil {
			return
		}
		n, err := r.TrimEmbedded(context.Background())
		if n != 0 || err != nil {
			t.Errorf("TrimEmbedded on a real Redis = %d, %v; want 0, nil", n, err)
		}
	})
}
