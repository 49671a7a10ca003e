package queue_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/queue"
)

func try(t *testing.T, l *queue.Lease) bool {
	t.Helper()
	ok, err := l.Try(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestLeaseOneHolder: of two processes, one holds the lease; renewing
// keeps it; released, the other takes it.
func TestLeaseOneHolder(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, _ string) {
		a, b := queue.NewLease(r, "test", time.Minute), queue.NewLease(r, "test", time.Minute)
		if !try(t, a) || !a.Held() {
			t.Fatal("a did not take the free lease")
		}
		if try(t, b) || b.Held() {
			t.Fatal("b took the lease a holds")
		}
		if !try(t, a) {
			t.Fatal("a could not renew its lease")
		}
		if err := a.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		if a.Held() {
			t.Error("a still holds the lease it released")
		}
		if !try(t, b) || try(t, a) {
			t.Error("after a released it, b did not take the lease alone")
		}
	})
}

// TestLeaseLapses: a holder that stops renewing (a crashed process) loses
// the lease to the next one that tries, and learns so at its next try.
func TestLeaseLapses(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, _ string) {
		a, b := queue.NewLease(r, "test", time.Second), queue.NewLease(r, "test", time.Second)
		if !try(t, a) {
			t.Fatal("a did not take the free lease")
		}
		waitFor(t, "b to take the lapsed lease", func() bool { return try(t, b) })
		if try(t, a) || a.Held() {
			t.Error("a took back or still holds the lease b took")
		}
	})
}

// TestLeaseRun: Run takes the lease and keeps it, and releases it when its
// context ends.
func TestLeaseRun(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, _ string) {
		a, b := queue.NewLease(r, "test", time.Minute), queue.NewLease(r, "test", time.Minute)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { a.Run(ctx); close(done) }()
		waitFor(t, "Run to take the lease", a.Held)
		if try(t, b) {
			t.Error("b took the lease a runs")
		}
		cancel()
		<-done
		if a.Held() || !try(t, b) {
			t.Error("a's lease was not released when Run ended")
		}
	})
}

// TestLeaseHold: Hold runs its function while no other process holds the
// lease, refuses to while one does, and releases it afterwards.
func TestLeaseHold(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, _ string) {
		a, b := queue.NewLease(r, "test-hold", time.Minute), queue.NewLease(r, "test-hold", time.Minute)
		var inner bool
		ran, err := a.Hold(t.Context(), func(ctx context.Context) error {
			ran, err := b.Hold(ctx, func(context.Context) error { inner = true; return nil })
			if ran || err != nil {
				t.Errorf("second Hold while the first runs = %v, %v; want false, nil", ran, err)
			}
			return errors.New("job failed")
		})
		if !ran || err == nil || err.Error() != "job failed" {
			t.Errorf("Hold = %v, %v; want true and the job's error", ran, err)
		}
		if inner {
			t.Error("the second holder ran its job while the first held the lease")
		}
		ran, err = b.Hold(t.Context(), func(context.Context) error { return nil })
		if !ran || err != nil {
			t.Errorf("Hold after release = %v, %v; want true, nil", ran, err)
		}
	})
}
