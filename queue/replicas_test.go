package queue_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
)

// waits counts the outcomes RequireReplicas reports.
type waits struct {
	mu               sync.Mutex
	confirmed, short int
}

func (w *waits) observe(ok bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ok {
		w.confirmed++
	} else {
		w.short++
	}
}

func (w *waits) get() [2]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return [2]int{w.confirmed, w.short}
}

// TestIngressWaitsForReplicas: with one replica required, an event is
// accepted while the replica keeps up; with the replica paused the enqueue
// fails with ErrReplicasShort before its deadline, the task is in the
// primary's queue, and the sender's retry is refused too until the replica
// is back, then taken as a duplicate.
func TestIngressWaitsForReplicas(t *testing.T) {
	t.Run("single", func(t *testing.T) {
		primary := redistest.StartServer(t)
		testReplicaWaits(t, primary.URL(), redistest.StartReplica(t, primary))
	})
	t.Run("cluster", func(t *testing.T) {
		primary, replica := redistest.StartCluster(t)
		testReplicaWaits(t, fmt.Sprintf("redis-cluster://127.0.0.1:%d", primary.Port), replica)
	})
}

func testReplicaWaits(t *testing.T, url string, replica *redistest.Server) {
	r, err := queue.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	in := queue.NewIngress(r, time.Hour, time.Hour)
	var w waits
	if err := in.RequireReplicas(1, w.observe); err != nil {
		t.Fatal(err)
	}
	enqueue := func(id string) (bool, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		dup, err := in.Enqueue(ctx, id, eventTask())
		if ctx.Err() != nil {
			t.Errorf("Enqueue(%s) returned after its deadline: %v", id, err)
		}
		return dup, err
	}

	if dup, err := enqueue("stripe:evt_replicated"); err != nil || dup {
		t.Fatalf("with the replica up: duplicate=%v err=%v, want a new event taken", dup, err)
	}
	if diff := cmp.Diff([2]int{1, 0}, w.get()); diff != "" {
		t.Errorf("waits {confirmed, short} (-want +got):\n%s", diff)
	}

	replica.Pause(t)
	t.Cleanup(func() { replica.Resume(t) })
	for _, attempt := range []string{"first", "retry"} {
		_, err := enqueue("stripe:evt_unreplicated")
		if !errors.Is(err, queue.ErrReplicasShort) || !errors.Is(err, queue.ErrUnavailable) {
			t.Fatalf("%s attempt with the replica paused: err = %v, want ErrReplicasShort (an ErrUnavailable)", attempt, err)
		}
	}
	if diff := cmp.Diff([2]int{1, 2}, w.get()); diff != "" {
		t.Errorf("waits {confirmed, short} (-want +got):\n%s", diff)
	}
	insp := asynq.NewInspector(r.ConnOpt)
	defer insp.Close()
	if diff := cmp.Diff([]string{"stripe:evt_replicated", "stripe:evt_unreplicated"},
		taskIDs(t, insp, ingressQueue, asynq.TaskStatePending), cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("pending tasks (-want +got):\n%s", diff)
	}

	replica.Resume(t)
	if dup, err := enqueue("stripe:evt_unreplicated"); err != nil || !dup {
		t.Fatalf("retry with the replica back: duplicate=%v err=%v, want a duplicate taken", dup, err)
	}
	if diff := cmp.Diff([2]int{2, 2}, w.get()); diff != "" {
		t.Errorf("waits {confirmed, short} (-want +got):\n%s", diff)
	}
}

// TestIngressReplicasRefusedOnEmbedded: the embedded Redis has no WAIT.
func TestIngressReplicasRefusedOnEmbedded(t *testing.T) {
	in := queue.NewIngress(openEmbedded(t), time.Hour, time.Hour)
	if err := in.RequireReplicas(1, nil); err == nil {
		t.Error("RequireReplicas(1) on the embedded Redis: no error")
	}
	if err := in.RequireReplicas(0, nil); err != nil {
		t.Errorf("RequireReplicas(0) on the embedded Redis: %v", err)
	}
}
