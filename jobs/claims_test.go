package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/notifications"
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
		go func() { done <- slow.run(jobs.TypeChargeRefunded, ev) }()
		select {
		case <-mail.started:
		case err := <-done:
			t.Fatalf("first attempt ended before sending: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("first attempt never reached the mailer")
		}
		// The slow worker holds the claim and is mid-send.
		if err := fast.run(jobs.TypeChargeRefunded, ev); err == nil {
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
