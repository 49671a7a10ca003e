package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/queue"
)

const ingressQueue = "ingress"

func eventTask() *asynq.Task {
	return asynq.NewTask("test:event", []byte(`{"n":1}`), asynq.Queue(ingressQueue))
}

// TestIngressDuplicates: an event is taken once, whether its copy arrives
// while the task is still queued or after a worker marked it seen.
func TestIngressDuplicates(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, _ string) {
		in := queue.NewIngress(r, time.Hour, time.Hour)
		seen := queue.NewSeen(r, time.Hour)
		insp := asynq.NewInspector(r.ConnOpt)
		defer insp.Close()
		ctx := context.Background()
		tests := []struct {
			name      string
			id        string
			markSeen  bool   // MarkSeen(id) before the first Enqueue
			want      []bool // duplicate, for each Enqueue
			wantQueue bool   // the task is in the queue afterwards
		}{
			{name: "enqueued twice", id: "stripe:evt_twice", want: []bool{false, true, true}, wantQueue: true},
			{name: "seen before", id: "stripe:evt_seen", markSeen: true, want: []bool{true, true}},
			{name: "other id", id: "twilio:SM1:delivered", want: []bool{false}, wantQueue: true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if tt.markSeen {
					if err := seen.MarkSeen(ctx, tt.id); err != nil {
						t.Fatalf("MarkSeen: %v", err)
					}
				}
				var got []bool
				for range tt.want {
					dup, err := in.Enqueue(ctx, tt.id, eventTask())
					if err != nil {
						t.Fatalf("Enqueue: %v", err)
					}
					got = append(got, dup)
				}
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("duplicate per Enqueue (-want +got):\n%s", diff)
				}
				n := 0
				for _, id := range taskIDs(t, insp, ingressQueue, asynq.TaskStatePending) {
					if id == tt.id {
						n++
					}
				}
				if wantN := map[bool]int{true: 1, false: 0}[tt.wantQueue]; n != wantN {
					t.Errorf("%d tasks with id %s queued, want %d", n, tt.id, wantN)
				}
			})
		}
	})
}

// TestIngressGuards: a guard (an unsigned id such as Twilio's idempotency
// token) only adds duplicates: a guard seen before refuses the event, a
// fresh guard never lets a taken or seen event in, and a failed enqueue
// marks no guard.
func TestIngressGuards(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, url string) {
		in := queue.NewIngress(r, time.Hour, time.Hour)
		seen := queue.NewSeen(r, time.Hour)
		insp := asynq.NewInspector(r.ConnOpt)
		defer insp.Close()
		ctx := context.Background()
		if err := seen.MarkSeen(ctx, "twilio:SM9:sent"); err != nil {
			t.Fatalf("MarkSeen: %v", err)
		}
		steps := []struct {
			id, guard string
			want      bool // duplicate
		}{
			{"twilio:SM1:sent", "tok-1", false},
			{"twilio:SM1:sent", "tok-2", true}, // fresh guard, task still queued
			{"twilio:SM1:sent", "tok-1", true}, // the sender's own retry
			{"twilio:SM2:sent", "tok-1", true}, // guard seen before
			{"twilio:SM2:sent", "tok-2", true}, // marked by the duplicate above
			{"twilio:SM9:sent", "tok-9", true}, // applied already (seen)
			{"twilio:SM3:sent", "", false},     // no guard
			{"twilio:SM4:sent", "tok-4", false},
		}
		for _, st := range steps {
			var guards []string
			if st.guard != "" {
				guards = []string{st.guard}
			}
			dup, err := in.Enqueue(ctx, st.id, eventTask(), guards...)
			if err != nil || dup != st.want {
				t.Errorf("Enqueue(%s, guard %q) = (duplicate %v, %v), want duplicate %v", st.id, st.guard, dup, err, st.want)
			}
		}
		got := taskIDs(t, insp, ingressQueue, asynq.TaskStatePending)
		want := []string{"twilio:SM1:sent", "twilio:SM3:sent", "twilio:SM4:sent"}
		if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
			t.Errorf("queued task ids (-want +got):\n%s", diff)
		}

		// An enqueue that fails marks no guard: the retry is accepted.
		r2, err := queue.Open(ctx, url)
		if err != nil {
			t.Fatalf("open second client: %v", err)
		}
		r2.Close()
		failing := queue.NewIngress(r2, time.Hour, time.Hour)
		if _, err := failing.Enqueue(ctx, "twilio:SM5:sent", eventTask(), "tok-5"); !errors.Is(err, queue.ErrUnavailable) {
			t.Fatalf("Enqueue through a closed client: %v, want ErrUnavailable", err)
		}
		if dup, err := in.Enqueue(ctx, "twilio:SM5:sent", eventTask(), "tok-5"); err != nil || dup {
			t.Errorf("retry after a failed enqueue = (duplicate %v, %v), want accepted", dup, err)
		}
	})
}

// TestIngressClosedClient: an Enqueue through a closed client fails with
// ErrUnavailable and takes nothing, so a later Enqueue of the event through
// a working client is accepted.
func TestIngressClosedClient(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, url string) {
		// A second client of the same database, closed (closing r would
		// stop the embedded server too).
		r2, err := queue.Open(context.Background(), url)
		if err != nil {
			t.Fatalf("open second client: %v", err)
		}
		r2.Close()
		assertRetryAccepted(t, r, queue.NewIngress(r2, time.Hour, time.Hour), queue.NewIngress(r, time.Hour, time.Hour), "stripe:evt_closed")
	})
}

// assertRetryAccepted enqueues id through failing (which must fail with
// ErrUnavailable within 5 seconds, the contract's bound for a 503), then
// through working (which must accept it), and checks one task is queued.
func assertRetryAccepted(t *testing.T, r *queue.Redis, failing, working *queue.Ingress, id string) {
	t.Helper()
	ctx := context.Background()
	start := time.Now()
	dup, err := failing.Enqueue(ctx, id, eventTask())
	if !errors.Is(err, queue.ErrUnavailable) {
		t.Fatalf("Enqueue while unavailable = (%v, %v), want ErrUnavailable", dup, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("failing Enqueue took %v, want under 5s", took)
	}
	dup, err = working.Enqueue(ctx, id, eventTask())
	if err != nil || dup {
		t.Fatalf("Enqueue after recovery = (duplicate %v, %v), want accepted", dup, err)
	}
	insp := asynq.NewInspector(r.ConnOpt)
	defer insp.Close()
	n := 0
	for _, got := range taskIDs(t, insp, ingressQueue, asynq.TaskStatePending) {
		if got == id {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d tasks with id %s queued, want 1", n, id)
	}
}

// TestIngressRedisKilled kills a real redis-server that keeps its data
// across restarts: the Enqueue during the outage fails with ErrUnavailable
// and leaves no trace, so after the restart the same event is accepted
// (not a duplicate), while an event accepted before the outage still is
// one.
func TestIngressRedisKilled(t *testing.T) {
	p := newRedisProcess(t)
	ctx := context.Background()
	r, err := queue.Open(ctx, p.url())
	if err != nil {
		t.Fatalf("open redis: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	in := queue.NewIngress(r, time.Hour, time.Hour)
	if dup, err := in.Enqueue(ctx, "stripe:evt_before", eventTask()); err != nil || dup {
		t.Fatalf("Enqueue before the outage = (%v, %v), want accepted", dup, err)
	}

	p.kill()
	start := time.Now()
	dup, err := in.Enqueue(ctx, "stripe:evt_during", eventTask())
	if !errors.Is(err, queue.ErrUnavailable) {
		t.Fatalf("Enqueue during the outage = (%v, %v), want ErrUnavailable", dup, err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("failing Enqueue took %v, want under 5s", took)
	}

	p.start(t)
	waitFor(t, "the client to reconnect", func() bool { return r.Ping(ctx) == nil })
	if dup, err := in.Enqueue(ctx, "stripe:evt_during", eventTask()); err != nil || dup {
		t.Errorf("retry after the outage = (duplicate %v, %v), want accepted", dup, err)
	}
	if dup, err := in.Enqueue(ctx, "stripe:evt_before", eventTask()); err != nil || !dup {
		t.Errorf("copy of the event accepted before the outage = (duplicate %v, %v), want duplicate", dup, err)
	}
	insp := asynq.NewInspector(r.ConnOpt)
	defer insp.Close()
	got := taskIDs(t, insp, ingressQueue, asynq.TaskStatePending)
	want := []string{"stripe:evt_before", "stripe:evt_during"}
	if diff := cmp.Diff(want, got, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("queued task ids (-want +got):\n%s", diff)
	}
}
