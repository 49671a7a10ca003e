package jobs_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/tasks"
)

// sentRefusingStore refuses to record a sent message, like a database
// that went down after the provider accepted, failsLeft more times.
type sentRefusingStore struct {
	bookings.Store
	mu        sync.Mutex
	failsLeft int
}

func (s *sentRefusingStore) FinishNotification(ctx context.Context, id int64, c bookings.Claim, st bookings.NotificationStatus, providerID, lastErr string) error {
	s.mu.Lock()
	fail := st == bookings.NotificationSent && s.failsLeft > 0
	if fail {
		s.failsLeft--
	}
	s.mu.Unlock()
	if fail {
		return errors.New("connection refused")
	}
	return s.Store.FinishNotification(ctx, id, c, st, providerID, lastErr)
}

// TestAcceptedOutcomeIsNeverForgotten: recording "sent" fails after the
// provider accepted. A brief failure is retried in place; a longer one
// leaves the receipt in Redis, and the next attempt records it and sends
// nothing.
func TestAcceptedOutcomeIsNeverForgotten(t *testing.T) {
	for _, tt := range []struct {
		name      string
		fails     int
		wantRetry bool // the first run fails, a later attempt records it
	}{
		{"database refuses once", 1, false},
		{"database down longer than the retries", 100, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stores(t, func(t *testing.T, s bookings.Store) {
				const lease = time.Second
				refusing := &sentRefusingStore{Store: s, failsLeft: tt.fails}
				receipts := queue.NewReceipts(redistest.Open(t, redistest.DBJobs))
				f := newFixture(t, refusing, func(d *jobs.Deps) { d.Receipts, d.ClaimLease = receipts, lease })
				b := f.booking(bookings.StatusConfirmed)
				ev := stripeEvent("evt_down", "charge.refunded", charge(b.ID, "pi_down", 6000))
				err := f.run(tasks.TypeChargeRefunded, ev)
				if tt.wantRetry != (err != nil) {
					t.Fatalf("first run: %v; want an error: %v", err, tt.wantRetry)
				}
				if tt.wantRetry {
					refusing.mu.Lock()
					refusing.failsLeft = 0 // the database is back
					refusing.mu.Unlock()
					poll := time.NewTicker(100 * time.Millisecond)
					defer poll.Stop()
					for deadline := time.Now().Add(10 * lease); err != nil && time.Now().Before(deadline); <-poll.C {
						err = f.run(tasks.TypeChargeRefunded, ev) // the claim expires on the database's clock
					}
					if err != nil {
						t.Fatalf("the message was never recorded: %v", err)
					}
				}
				f.mustRun(tasks.TypeChargeRefunded, ev)
				sent := f.out.emailsTo(b.CustomerEmail)
				if len(sent) != 1 {
					t.Fatalf("emails = %d, want 1", len(sent))
				}
				ns := f.notifications(b.ID)
				if len(ns) != 1 || ns[0].Status != bookings.NotificationSent || ns[0].ProviderID != "<1@test>" {
					t.Errorf("notifications = %+v, want sent with the first attempt's provider id", ns)
				}
			})
		})
	}
}
