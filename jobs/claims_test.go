package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/tasks"
)

// gatedMailer holds every email until release is closed, like an SMTP
// server that takes its time; started is closed when the first arrives.
type gatedMailer struct {
	once    sync.Once
	started chan struct{}
	release chan struct{}
	mu      sync.Mutex
	sent    []notifications.Email
}

func newGatedMailer() *gatedMailer {
	return &gatedMailer{started: make(chan struct{}), release: make(chan struct{})}
}

func (g *gatedMailer) SendEmail(ctx context.Context, m notifications.Email) (notifications.Receipt, error) {
	g.once.Do(func() { close(g.started) })
	select {
	case <-g.release:
	case <-ctx.Done():
		return notifications.Receipt{}, ctx.Err()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.sent = append(g.sent, m)
	return notifications.Receipt{ProviderID: "<gated@test>"}, nil
}

func (g *gatedMailer) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sent)
}

// TestFastClockKeepsOffAFreshClaim: a worker whose clock runs more than a
// claim's lease ahead does not take over a message another worker is
// sending right now: claims are judged on the database's clock.
func TestFastClockKeepsOffAFreshClaim(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		mail := newGatedMailer()
		slow := newFixture(t, s, func(d *jobs.Deps) { d.Mailer = mail })
		fast := newFixture(t, s) // records what it sends, never blocks
		now := time.Now()
		slow.now, fast.now = now, now.Add(time.Minute+5*time.Second)

		b := slow.booking(bookings.StatusConfirmed)
		ev := stripeEvent("evt_clock", "charge.refunded", charge(b.ID, "pi_clock", 6000))
		done := make(chan error, 1)
		go func() { done <- slow.run(tasks.TypeChargeRefunded, ev) }()
		select {
		case <-mail.started:
		case err := <-done:
			t.Fatalf("first attempt ended before sending: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("first attempt never reached the mailer")
		}
		// The slow worker holds the claim and is mid-send.
		if err := fast.run(tasks.TypeChargeRefunded, ev); err == nil {
			t.Error("the fast worker finished the task while another attempt was sending")
		}
		if n := len(fast.out.emailsTo(b.CustomerEmail)); n != 0 {
			t.Errorf("the fast worker sent %d emails another attempt was sending", n)
		}
		close(mail.release)
		if err := <-done; err != nil {
			t.Fatalf("first attempt: %v", err)
		}
		if n := mail.count(); n != 1 {
			t.Errorf("emails sent = %d, want 1", n)
		}
		if ns := slow.notifications(b.ID); len(ns) != 1 || ns[0].Status != bookings.NotificationSent || ns[0].Attempts != 1 {
			t.Errorf("notifications = %+v, want one sent after 1 attempt", ns)
		}
	})
}

// TestEventTaskEndsAtItsCommit: a refusing SMTP server fails only the
// message's own notify:send task; the event's task completes, and the
// message's task id is derived from the notification.
func TestEventTaskEndsAtItsCommit(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		ev := stripeEvent("evt_own", "charge.refunded", charge(b.ID, "pi_own", 6000))
		f.out.fail = errTemporary
		if err := f.runEvent(tasks.TypeChargeRefunded, ev); err != nil {
			t.Fatalf("event task: %v; want it done once its changes are committed", err)
		}
		ns := f.notifications(b.ID)
		if len(ns) != 1 || len(f.sched.notify) != 1 {
			t.Fatalf("notifications = %+v, queued = %d; want one message, one task", ns, len(f.sched.notify))
		}
		if err := f.sendQueued(); err == nil {
			t.Fatal("the message's task succeeded while the SMTP server refused")
		}
		f.out.fail = nil
		f.mustRun(tasks.TypeChargeRefunded, ev) // Asynq's retry of the event, or of the message
		f.mustRun(tasks.TypeChargeRefunded, ev)
		if n := len(f.out.emailsTo(b.CustomerEmail)); n != 1 {
			t.Errorf("emails = %d, want 1", n)
		}
	})
}

// TestNotifyTaskIDIsTheNotifications: a second notify:send for the same
// notification is refused by Asynq while the first is in Redis.
func TestNotifyTaskIDIsTheNotifications(t *testing.T) {
	c := asynq.NewClientFromRedisClient(redistest.Open(t, redistest.DBJobs).Client)
	for i, want := range []error{nil, asynq.ErrTaskIDConflict} {
		task, err := tasks.NewNotifyTask(tasks.Notify{NotificationID: 7, Key: fmt.Sprint("stripe:evt_", i, ":refund")})
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.EnqueueContext(t.Context(), task)
		if !errors.Is(err, want) {
			t.Fatalf("enqueue %d: %v, want %v", i, err, want)
		}
		if err == nil && (info.ID != "notify:7" || info.Queue != tasks.QueueWebhooks) {
			t.Errorf("task = %s on %s, want notify:7 on %s", info.ID, info.Queue, tasks.QueueWebhooks)
		}
	}
}
