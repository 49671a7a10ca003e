package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

func t0ctx() context.Context { return context.Background() }

// TestCrashBetweenCommitAndSend: the provider refuses after the booking
// change committed; the retry sends the message once and changes nothing else.
func TestCrashBetweenCommitAndSend(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		ev := stripeEvent("evt_smtp", "charge.refunded", charge(b.ID, "pi_c", 6000))
		f.out.fail = errTemporary
		if err := f.run(tasks.TypeChargeRefunded, ev); err == nil {
			t.Fatal("want a transient error so Asynq retries")
		}
		if !f.get(b.ID).DepositRefunded {
			t.Fatal("booking change not committed before the send")
		}
		f.out.fail = nil
		f.mustRun(tasks.TypeChargeRefunded, ev)
		f.mustRun(tasks.TypeChargeRefunded, ev)
		if n := len(f.out.emailsTo(b.CustomerEmail)); n != 1 {
			t.Errorf("emails = %d, want 1", n)
		}
		if n := len(f.transactions(b.ID)); n != 1 {
			t.Errorf("transactions = %d, want 1", n)
		}
		ns := f.notifications(b.ID)
		if len(ns) != 1 || ns[0].Status != bookings.NotificationSent || ns[0].Attempts != 2 || ns[0].SentAt.IsZero() {
			t.Errorf("notification = %+v", ns)
		}
	})
}

// TestPermanentRejectionIsNotRetried: a recipient the provider refuses for
// good is marked failed and the task ends.
func TestPermanentRejectionIsNotRetried(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		f.out.fail = fmt.Errorf("550 no such user: %w", notifications.ErrPermanent)
		f.mustRun(tasks.TypeChargeRefunded, stripeEvent("evt_perm", "charge.refunded", charge(b.ID, "pi_p", 6000)))
		ns := f.notifications(b.ID)
		if len(ns) != 1 || ns[0].Status != bookings.NotificationFailed || ns[0].LastError == "" {
			t.Errorf("notification = %+v", ns)
		}
	})
}

// failingStore fails every Apply, like a database that is down.
type failingStore struct{ bookings.Store }

func (failingStore) Apply(context.Context, bookings.Event, func(context.Context, bookings.Tx) (bookings.Result, error)) error {
	return errors.New("connection refused")
}

func TestDatabaseDownIsRetried(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, failingStore{s})
		b := f.booking(bookings.StatusPaymentPending)
		ev := stripeEvent("evt_db", "payment_intent.succeeded", intent(b.ID, "pi_db"))
		err := f.run(tasks.TypePaymentSucceeded, ev)
		if err == nil || errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("err = %v, want a retryable error", err)
		}
		// The database is back: the retry applies the event.
		f2 := newFixture(t, s)
		f2.mustRun(tasks.TypePaymentSucceeded, ev)
		if !f2.get(b.ID).DepositPaid {
			t.Error("retry did not apply the payment")
		}
	})
}

// TestWorkerDiedMidSend: a message claimed by an attempt that died is left
// alone while its claim is fresh (the task retries later) and sent once
// when the claim has expired on the database's clock.
func TestWorkerDiedMidSend(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		const lease = 2 * time.Second
		f := newFixture(t, s, func(d *jobs.Deps) { d.ClaimLease = lease })
		b := f.booking(bookings.StatusConfirmed)
		ev := stripeEvent("evt_died", "charge.refunded", charge(b.ID, "pi_d", 6000))
		f.out.fail = errTemporary
		if err := f.run(tasks.TypeChargeRefunded, ev); err == nil {
			t.Fatal("want a transient error")
		}
		ns := f.notifications(b.ID)
		if len(ns) != 1 {
			t.Fatalf("notifications = %+v", ns)
		}
		// Another attempt claims it and dies before finishing.
		if _, ok, err := s.ClaimNotification(context.Background(), ns[0].ID, lease); err != nil || !ok {
			t.Fatalf("claim = %v, %v", ok, err)
		}
		f.out.fail = nil
		if err := f.run(tasks.TypeChargeRefunded, ev); err == nil {
			t.Fatal("a fresh claim must make the task retry, not finish with the message unsent")
		}
		if n := len(f.out.emailsTo(b.CustomerEmail)); n != 0 {
			t.Fatalf("sent %d while another attempt held the claim", n)
		}
		var err error
		poll := time.NewTicker(100 * time.Millisecond)
		defer poll.Stop()
		for deadline := time.Now().Add(10 * lease); time.Now().Before(deadline); <-poll.C {
			if err = f.run(tasks.TypeChargeRefunded, ev); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("the expired claim was never taken over: %v", err)
		}
		f.mustRun(tasks.TypeChargeRefunded, ev)
		if n := len(f.out.emailsTo(b.CustomerEmail)); n != 1 {
			t.Errorf("emails = %d, want 1", n)
		}
	})
}
