package main

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/notifications/twiliotest"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/tasks"
	"github.com/reserveeasy/gateway/verify"
)

// shutdownFixture is a gateway sending SMS through a slow Twilio double,
// with one payment task running (its SMS in flight) and one webhook
// request half received when the test cancels it.
type shutdownFixture struct {
	g        *gateway
	twilio   *twiliotest.Server
	redisURL string
	answer   func() slowAnswer
}

const shutdownSecret = "whsec_shutdown"

func startShutdownFixture(t *testing.T, timeout, twilioLatency time.Duration) *shutdownFixture {
	t.Helper()
	f := &shutdownFixture{twilio: twiliotest.Start(t, twiliotest.Config{Latency: twilioLatency}),
		redisURL: redistest.URL(t, redistest.DBCommand)}
	dbURL := sqliteURL(t)
	s, err := openStore(context.Background(), dbURL, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var ids []int64
	for i := range 2 {
		b, err := s.CreateBooking(context.Background(), bookings.Booking{CustomerName: "Grace Hopper",
			CustomerPhone: fmt.Sprintf("+1555000%04d", i), CustomerEmail: "grace@example.com",
			Status: bookings.StatusPaymentPending, DepositAmount: 6000, DepositCurrency: "usd"})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, b.ID)
	}
	f.g = startGateway(t, []string{"serve"}, map[string]string{
		"REDIS_URL": f.redisURL, "DATABASE_URL": dbURL, "SHUTDOWN_TIMEOUT": timeout.String(),
		"STRIPE_WEBHOOK_SECRET": shutdownSecret, "TWILIO_AUTH_TOKEN": "tok", "TWILIO_ACCOUNT_SID": "AC1",
		"TWILIO_FROM_NUMBER": "+15550009999", "TWILIO_API_BASE_URL": f.twilio.URL(),
	})
	paid := stripePayload("evt_shutdown_paid", ids[0])
	if code, body := f.g.do(http.MethodPost, handlers.StripePath, "application/json", f.stripeHeader(paid), string(paid)); code != http.StatusOK {
		t.Fatalf("payment webhook = %d %s", code, body)
	}
	in := asynq.NewInspector(redisOpt(t, f.redisURL))
	t.Cleanup(func() { in.Close() })
	eventually(t, 10*time.Second, func() string {
		if active, _ := in.ListActiveTasks(tasks.QueueWebhooks); len(active) == 1 {
			return ""
		}
		return "the payment task is not running\n" + f.g.stderr.String()
	})
	late := stripePayload("evt_shutdown_late", ids[1])
	f.answer = f.g.startSlowPost(handlers.StripePath, late, f.stripeHeader(late))
	return f
}

func (f *shutdownFixture) stripeHeader(body []byte) http.Header {
	return http.Header{"Stripe-Signature": {verify.SignStripe(body, shutdownSecret, time.Now())}, "Content-Type": {"application/json"}}
}

func stripePayload(id string, booking int64) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"object":"event","type":"payment_intent.succeeded","created":1700000000,`+
		`"data":{"object":{"id":"pi_%s","object":"payment_intent","amount":6000,"currency":"usd","metadata":{"booking_id":"%d"}}}}`, id, id, booking))
}

// redisOpt is Asynq's connection to a redis:// URL.
func redisOpt(t *testing.T, u string) asynq.RedisConnOpt {
	t.Helper()
	opt, err := asynq.ParseRedisURI(u)
	if err != nil {
		t.Fatal(err)
	}
	return opt
}

// cancelAndWait cancels the gateway and returns how long run took to
// return, and what it returned.
func (f *shutdownFixture) cancelAndWait(t *testing.T, afterCancel func()) (time.Duration, error) {
	t.Helper()
	start := time.Now()
	f.g.cancel()
	afterCancel()
	select {
	case err := <-f.g.done:
		f.g.done <- err // for stop
		return time.Since(start), err
	case <-time.After(time.Minute):
		t.Fatal("the gateway did not return within a minute of SIGTERM")
	}
	return 0, nil
}

// TestShutdownDrainsRequestsAndTasksTogether: at SIGTERM the worker takes no
// new task, and the request and the task in flight both finish.
func TestShutdownDrainsRequestsAndTasksTogether(t *testing.T) {
	f := startShutdownFixture(t, 10*time.Second, 2*time.Second)
	var answer slowAnswer
	_, err := f.cancelAndWait(t, func() {
		c := asynq.NewClient(redisOpt(t, f.redisURL))
		defer c.Close()
		if _, err := c.Enqueue(asynq.NewTask(tasks.TypePaymentSucceeded, []byte(`{}`)),
			asynq.TaskID("after-sigterm"), asynq.Queue(tasks.QueueWebhooks)); err != nil {
			t.Errorf("enqueue after SIGTERM: %v", err)
		}
		answer = f.answer()
	})
	if err != nil {
		t.Errorf("run returned %v, want nil", err)
	}
	if answer.Status != http.StatusOK {
		t.Errorf("the request in flight at SIGTERM got %+v, want 200", answer)
	}
	in := asynq.NewInspector(redisOpt(t, f.redisURL))
	defer in.Close()
	// The payment's confirmation SMS is its own notify:send task, queued
	// at the payment's commit: it waits in Redis for the next worker.
	pending, err := in.ListPendingTasks(tasks.QueueWebhooks)
	queued := 0
	for _, ti := range pending {
		if ti.Type == tasks.TypeNotify {
			queued++
		}
	}
	if n := len(f.twilio.Messages()); err != nil || n+queued != 1 {
		t.Errorf("the SMS of the task in flight at SIGTERM: Twilio took %d, %d queued (%v); want it sent or queued, once", n, queued, err)
	}
	if ti, err := in.GetTaskInfo(tasks.QueueWebhooks, "after-sigterm"); err != nil || ti.State != asynq.TaskStatePending {
		t.Errorf("a task queued after SIGTERM = %v %v, want still pending (the worker stopped taking tasks)", ti, err)
	}
}

// TestShutdownWithinOneTimeout: a request that never finishes and a task
// whose provider never answers both get the same SHUTDOWN_TIMEOUT, in
// parallel, not one after the other.
func TestShutdownWithinOneTimeout(t *testing.T) {
	const timeout = 3 * time.Second
	f := startShutdownFixture(t, timeout, time.Minute)
	took, err := f.cancelAndWait(t, func() {})
	if err != nil {
		t.Errorf("run returned %v, want nil", err)
	}
	// The bound under test is SHUTDOWN_TIMEOUT itself; the second is for
	// closing connections on a busy machine. Draining one after the other
	// takes twice the timeout.
	if took > timeout+time.Second {
		t.Errorf("shutdown took %v, want within SHUTDOWN_TIMEOUT %v", took.Round(100*time.Millisecond), timeout)
	}
}
