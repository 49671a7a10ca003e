package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/queue"
)

// runs counts the attempts of each task, by type.
type runs struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *runs) add(typ string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[typ]++
	return r.n[typ]
}

func (r *runs) snapshot() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for k, v := range r.n {
		out[k] = v
	}
	return out
}

// TestWorkerCompletesTasks proves that an Asynq server processes immediate,
// scheduled and retried tasks on the embedded Redis as on a real one:
// Asynq's Lua scripts and its forwarder of scheduled and retry tasks work
// there.
func TestWorkerCompletesTasks(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, _ string) {
		const q = "work"
		got := &runs{n: map[string]int{}}
		var completed sync.Map
		mux := asynq.NewServeMux()
		mux.HandleFunc("test:immediate", func(_ context.Context, task *asynq.Task) error {
			got.add(task.Type())
			completed.Store(task.Type(), true)
			return nil
		})
		mux.HandleFunc("test:scheduled", func(_ context.Context, task *asynq.Task) error {
			got.add(task.Type())
			completed.Store(task.Type(), true)
			return nil
		})
		mux.HandleFunc("test:retried", func(_ context.Context, task *asynq.Task) error {
			if got.add(task.Type()) == 1 {
				return errors.New("first attempt fails")
			}
			completed.Store(task.Type(), true)
			return nil
		})
		startWorker(t, r, mux, q)
		c := asynq.NewClient(r.ConnOpt)
		defer c.Close()

		tests := []struct {
			typ       string
			opts      []asynq.Option
			wantState asynq.TaskState
		}{
			{"test:immediate", nil, asynq.TaskStatePending},
			{"test:scheduled", []asynq.Option{asynq.ProcessIn(500 * time.Millisecond)}, asynq.TaskStateScheduled},
			{"test:retried", []asynq.Option{asynq.MaxRetry(3)}, asynq.TaskStatePending},
		}
		for _, tt := range tests {
			info, err := c.Enqueue(asynq.NewTask(tt.typ, nil), append(tt.opts, asynq.Queue(q))...)
			if err != nil {
				t.Fatalf("enqueue %s: %v", tt.typ, err)
			}
			if info.State != tt.wantState {
				t.Errorf("%s enqueued in state %v, want %v", tt.typ, info.State, tt.wantState)
			}
		}
		waitFor(t, "every task to complete", func() bool {
			n := 0
			completed.Range(func(any, any) bool { n++; return true })
			return n == len(tests)
		})
		want := map[string]int{"test:immediate": 1, "test:scheduled": 1, "test:retried": 2}
		if diff := cmp.Diff(want, got.snapshot()); diff != "" {
			t.Errorf("attempts (-want +got):\n%s", diff)
		}
	})
}

// TestInspectorRunsArchivedTask proves that the ops UI's Inspector works on
// both backends: a task that failed for good is listed in the archive,
// counted in the queue's info, and runs again (and completes) when told.
func TestInspectorRunsArchivedTask(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, _ string) {
		const q, id = "inspect", "task-1"
		var broken atomic.Bool
		broken.Store(true)
		var done atomic.Int32
		mux := asynq.NewServeMux()
		mux.HandleFunc("test:flaky", func(context.Context, *asynq.Task) error {
			if broken.Load() {
				return fmt.Errorf("provider down: %w", asynq.SkipRetry)
			}
			done.Add(1)
			return nil
		})
		startWorker(t, r, mux, q)
		c := asynq.NewClient(r.ConnOpt)
		defer c.Close()
		in := asynq.NewInspector(r.ConnOpt)
		defer in.Close()

		if _, err := c.Enqueue(asynq.NewTask("test:flaky", []byte(`{}`)), asynq.Queue(q), asynq.TaskID(id),
			asynq.Retention(time.Hour)); err != nil {
			t.Fatalf("enqueue: %v", err)
		}
		waitFor(t, "the task to be archived", func() bool { return len(taskIDs(t, in, q, asynq.TaskStateArchived)) == 1 })
		archived, err := in.ListArchivedTasks(q)
		if err != nil {
			t.Fatalf("ListArchivedTasks: %v", err)
		}
		if len(archived) != 1 || archived[0].ID != id || !strings.Contains(archived[0].LastErr, "provider down") {
			t.Fatalf("archived = %+v, want %s failed with \"provider down\"", archived, id)
		}
		assertQueueInfo(t, in, q, queueCounts{Size: 1, Archived: 1})

		broken.Store(false)
		if err := in.RunTask(q, id); err != nil {
			t.Fatalf("RunTask: %v", err)
		}
		waitFor(t, "the task to complete", func() bool {
			info, err := in.GetQueueInfo(q)
			return err == nil && info.Completed == 1
		})
		assertQueueInfo(t, in, q, queueCounts{Size: 1, Completed: 1}) // Size counts completed tasks too
		if n := done.Load(); n != 1 {
			t.Errorf("task completed %d times, want 1", n)
		}
	})
}

// queueCounts is the part of asynq.QueueInfo the tests check.
type queueCounts struct {
	Size, Pending, Active, Scheduled, Retry, Archived, Completed int
}

func assertQueueInfo(t *testing.T, in *asynq.Inspector, q string, want queueCounts) {
	t.Helper()
	info, err := in.GetQueueInfo(q)
	if err != nil {
		t.Fatalf("GetQueueInfo(%s): %v", q, err)
	}
	got := queueCounts{Size: info.Size, Pending: info.Pending, Active: info.Active, Scheduled: info.Scheduled,
		Retry: info.Retry, Archived: info.Archived, Completed: info.Completed}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("queue %s info (-want +got):\n%s", q, diff)
	}
}
