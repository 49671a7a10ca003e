package handlers_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/tasks"
	"github.com/reserveeasy/gateway/verify"
)

// redisProcess is a real redis-server this test owns, so it can stop it.
type redisProcess struct {
	port int
	cmd  *exec.Cmd
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func (p *redisProcess) start(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server not installed (make test installs it): %v", err)
	}
	p.cmd = exec.Command(bin, "--port", fmt.Sprint(p.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", p.port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("redis-server did not start")
}

func (p *redisProcess) stop() {
	if p.cmd != nil && p.cmd.Process != nil {
		p.cmd.Process.Kill()
		p.cmd.Wait()
		p.cmd = nil
	}
}

// TestRedisOutage stops a real Redis: webhooks get 503 within 5 seconds,
// then 200 once Redis is back, and the event is queued exactly once.
func TestRedisOutage(t *testing.T) {
	p := &redisProcess{port: freePort(t)}
	p.start(t)
	t.Cleanup(p.stop)
	r, err := queue.Open(context.Background(), fmt.Sprintf("redis://127.0.0.1:%d", p.port))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f := newFixture(t, func(_ *handlers.Config, d *handlers.Deps) {
		d.Queue = queue.NewIngress(r, time.Minute, time.Hour)
		d.Redis = r
	})
	body := stripeEvent("evt_outage", "payment_intent.succeeded")
	sig := verify.SignStripe(body, stripeSecret, f.now)

	p.stop()
	start := time.Now()
	code, _ := f.postStripe(t, body, sig)
	if took := time.Since(start); code != http.StatusServiceUnavailable || took > 5*time.Second {
		t.Fatalf("with redis down: status %d after %v, want 503 within 5s", code, took)
	}
	if code, _ := get(t, f.srv.URL+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with redis down = %d, want 503", code)
	}

	p.start(t)
	deadline := time.Now().Add(10 * time.Second)
	for code != http.StatusOK && time.Now().Before(deadline) {
		code, _ = f.postStripe(t, body, sig) // the sender's retry
	}
	if code != http.StatusOK {
		t.Fatalf("after redis returned: status %d, want 200", code)
	}
	if code, _ := f.postStripe(t, body, sig); code != http.StatusOK {
		t.Errorf("duplicate after recovery: status %d", code)
	}
	in := asynq.NewInspector(r.ConnOpt)
	defer in.Close()
	ts, err := in.ListPendingTasks(tasks.QueueWebhooks)
	if err != nil || len(ts) != 1 {
		t.Fatalf("pending tasks = %d (%v), want 1", len(ts), err)
	}
}
