package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/sqlite"
)

// TestHandlesShareFile runs Apply and Run on two stores opened on one
// file, as two processes would: immediate transactions and the busy
// timeout must keep each event applied once and each read-then-write
// transaction whole (a deferred one could not upgrade its read lock).
func TestHandlesShareFile(t *testing.T) {
	stores := openShared(t, 2)
	b, err := stores[0].CreateBooking(t.Context(), bookings.Booking{CustomerName: "A", CustomerPhone: "+1"})
	if err != nil {
		t.Fatal(err)
	}
	const perStore = 10
	var calls atomic.Int64
	increment := func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		calls.Add(1)
		cur, err := tx.BookingForUpdate(ctx, b.ID)
		if err != nil {
			return bookings.Result{}, err
		}
		cur.DepositAmount++
		return bookings.Result{BookingID: b.ID}, tx.UpdateBooking(ctx, cur, cur.UpdatedAt)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var applied int
	for i := range 2 * perStore {
		s := stores[i%2]
		wg.Go(func() { // every worker applies the shared event and one of its own, and runs one
			err := s.Run(t.Context(), func(ctx context.Context, tx bookings.Tx) error {
				_, err := increment(ctx, tx)
				return err
			})
			if err != nil {
				t.Errorf("Run: %v", err)
			}
			for _, id := range []string{"evt_shared", fmt.Sprintf("evt_%d", i)} {
				err := s.Apply(t.Context(), bookings.Event{Source: "stripe", ID: id, Type: "test"}, increment)
				switch {
				case err == nil:
					mu.Lock()
					applied++
					mu.Unlock()
				case !errors.Is(err, bookings.ErrAlreadyApplied):
					t.Errorf("Apply(%s): %v", id, err)
				}
			}
		})
	}
	wg.Wait()
	want := int64(2*perStore + 1)
	if applied != int(want) || calls.Load() != want+2*perStore {
		t.Errorf("%d applied, fn ran %d times; want %d and %d", applied, calls.Load(), want, want+2*perStore)
	}
	want += 2 * perStore // the runs
	got, err := stores[1].Booking(t.Context(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.DepositAmount != want {
		t.Errorf("DepositAmount = %d, want %d", got.DepositAmount, want)
	}
}

// openShared opens n migrated stores on one new file.
func openShared(t *testing.T, n int) []*sqlite.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.db")
	var stores []*sqlite.Store
	for range n {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		if err := s.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, s)
	}
	return stores
}
