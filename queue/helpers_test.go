package queue_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
)

// backends runs test on the embedded Redis (REDIS_URL unset) and on a real
// Redis server. url is where r connects.
func backends(t *testing.T, test func(t *testing.T, r *queue.Redis, url string)) {
	t.Helper()
	t.Run("embedded", func(t *testing.T) {
		r := openEmbedded(t)
		test(t, r, r.EmbeddedURL)
	})
	t.Run("redis", func(t *testing.T) {
		url := redistest.URL(t, redistest.DBQueue)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		r, err := queue.Open(ctx, url)
		if err != nil {
			t.Fatalf("open redis: %v", err)
		}
		t.Cleanup(func() { r.Close() })
		test(t, r, url)
	})
}

func openEmbedded(t *testing.T) *queue.Redis {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := queue.Open(ctx, "")
	if err != nil {
		t.Fatalf("open embedded redis: %v", err)
	}
	if r.Embedded == nil {
		t.Fatal("queue.Open(\"\") did not start an embedded Redis")
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// waitFor polls cond every 20ms until it holds, failing the test after
// 15 seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// taskIDs lists the ids of the tasks in queue q in state (pending or
// archived); a queue that does not exist yet is empty.
func taskIDs(t *testing.T, in *asynq.Inspector, q string, state asynq.TaskState) []string {
	t.Helper()
	var ts []*asynq.TaskInfo
	var err error
	switch state {
	case asynq.TaskStatePending:
		ts, err = in.ListPendingTasks(q)
	case asynq.TaskStateArchived:
		ts, err = in.ListArchivedTasks(q)
	default:
		t.Fatalf("taskIDs: unsupported state %v", state)
	}
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatalf("list %v tasks of %s: %v", state, q, err)
	}
	ids := []string{}
	for _, ti := range ts {
		ids = append(ids, ti.ID)
	}
	return ids
}

// quietLogger drops Asynq's logs.
type quietLogger struct{}

func (quietLogger) Debug(...any) {}
func (quietLogger) Info(...any)  {}
func (quietLogger) Warn(...any)  {}
func (quietLogger) Error(...any) {}
func (quietLogger) Fatal(...any) {}

// startWorker runs an Asynq server on r for queues, polling for scheduled
// and retried tasks every 50ms and retrying after 100ms.
func startWorker(t *testing.T, r *queue.Redis, mux *asynq.ServeMux, queues ...string) {
	t.Helper()
	qs := map[string]int{}
	for _, q := range queues {
		qs[q] = 1
	}
	srv := asynq.NewServer(r.ConnOpt, asynq.Config{
		Concurrency:              2,
		Queues:                   qs,
		TaskCheckInterval:        50 * time.Millisecond,
		DelayedTaskCheckInterval: 50 * time.Millisecond,
		RetryDelayFunc:           func(int, error, *asynq.Task) time.Duration { return 100 * time.Millisecond },
		ShutdownTimeout:          5 * time.Second,
		Logger:                   quietLogger{},
	})
	if err := srv.Start(mux); err != nil {
		t.Fatalf("start asynq server: %v", err)
	}
	t.Cleanup(srv.Shutdown)
}

// redisProcess is a real redis-server this test owns, so that it can kill
// and restart it. It keeps its data in an append-only file synced on every
// write, so a restart finds what was written before the kill.
type redisProcess struct {
	port int
	dir  string
	cmd  *exec.Cmd
}

func newRedisProcess(t *testing.T) *redisProcess {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p := &redisProcess{port: port, dir: t.TempDir()}
	p.start(t)
	t.Cleanup(p.kill)
	return p
}

func (p *redisProcess) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", p.port) }

func (p *redisProcess) start(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not installed (make test installs it): %v", err)
	}
	p.cmd = exec.Command(bin, "--port", fmt.Sprint(p.port), "--bind", "127.0.0.1", "--dir", p.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always")
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	waitFor(t, "redis-server to accept connections", func() bool {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.port))
		if err == nil {
			c.Close()
		}
		return err == nil
	})
}

// kill stops the server at once (SIGKILL).
func (p *redisProcess) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
		p.cmd = nil
	}
}
