package storetest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reserveeasy/gateway/bookings"
)

var errBoom = errors.New("boom")

// payFn returns an Apply function that marks booking id paid, records the
// payment and queues a notification, counting its runs in calls.
func payFn(id int64, ev bookings.Event, calls *atomic.Int64) func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
	return func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		calls.Add(1)
		b, err := tx.BookingForUpdate(ctx, id)
		if err != nil {
			return bookings.Result{}, err
		}
		b, _ = bookings.ApplyPaymentSucceeded(b, "pi_"+ev.ID, false, t0)
		if err := tx.UpdateBooking(ctx, b, t0); err != nil {
			return bookings.Result{}, err
		}
		_, err = tx.AddTransaction(ctx, bookings.Transaction{BookingID: id, Kind: bookings.KindPayment,
			Amount: b.DepositAmount, Currency: b.DepositCurrency, StripeObjectID: "pi_" + ev.ID, StripeEventID: ev.ID})
		if err != nil {
			return bookings.Result{}, err
		}
		_, err = tx.AddNotification(ctx, bookings.Notification{BookingID: id, Channel: bookings.ChannelSMS,
			Template: "confirmation", Recipient: b.CustomerPhone, Key: ev.Source + ":" + ev.ID + ":confirmation", Body: "Booked"})
		return bookings.Result{BookingID: id, Outcome: "paid"}, err
	}
}

func testApply(t *testing.T, s bookings.Store) {
	b := mustCreate(t, s, minimalBooking("+15550008888"))
	ev := bookings.Event{Source: "stripe", ID: "evt_apply", Type: "payment_intent.succeeded", ReceivedAt: t0}
	var calls atomic.Int64
	if err := s.Apply(t.Context(), ev, payFn(b.ID, ev, &calls)); err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if !mustGet(t, s, b.ID).DepositPaid {
		t.Error("booking not paid after Apply")
	}
	events, err := s.Events(t.Context(), bookings.EventFilter{EventID: ev.ID})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	want := []bookings.EventRecord{{Event: ev, BookingID: b.ID, Outcome: "paid"}}
	diff(t, "Events", want, events, cmpopts.IgnoreFields(bookings.EventRecord{}, "ProcessedAt"))
	if len(events) == 1 {
		checkNear(t, "ProcessedAt", events[0].ProcessedAt, time.Now(), time.Minute)
	}

	err = s.Apply(t.Context(), ev, payFn(b.ID, ev, &calls))
	if !errors.Is(err, bookings.ErrAlreadyApplied) {
		t.Errorf("second Apply: error = %v, want ErrAlreadyApplied", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("fn ran %d times, want 1", n)
	}
	if n := rawInt(t, s, "SELECT COUNT(*) FROM transactions WHERE booking_id = %d", b.ID); n != 1 {
		t.Errorf("%d transactions, want 1", n)
	}

	// The same id from another source is another event.
	twilio := bookings.Event{Source: "twilio", ID: ev.ID, Type: "sms_status"}
	err = s.Apply(t.Context(), twilio, func(context.Context, bookings.Tx) (bookings.Result, error) {
		calls.Add(1)
		return bookings.Result{Outcome: "ignored"}, nil
	})
	if err != nil || calls.Load() != 2 {
		t.Errorf("Apply of %+v: error %v, fn ran %d times in all, want nil and 2", twilio, err, calls.Load())
	}
	if n := rawInt(t, s, "SELECT COUNT(*) FROM webhook_events WHERE source = 'twilio' AND booking_id IS NULL"); n != 1 {
		t.Errorf("%d twilio events without a booking, want 1 (Result.BookingID 0 is NULL)", n)
	}
}

func testApplyRollback(t *testing.T, s bookings.Store) {
	before := mustCreate(t, s, minimalBooking("+15550009999"))
	ev := bookings.Event{Source: "stripe", ID: "evt_rollback", Type: "payment_intent.succeeded", ReceivedAt: t0}
	var calls atomic.Int64
	pay := payFn(before.ID, ev, &calls)
	err := s.Apply(t.Context(), ev, func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		if _, err := pay(ctx, tx); err != nil {
			return bookings.Result{}, err
		}
		return bookings.Result{}, errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Apply: error = %v, want one wrapping %v", err, errBoom)
	}
	diff(t, "booking after a failed Apply", before, mustGet(t, s, before.ID))
	for _, table := range []string{"webhook_events", "transactions", "notifications"} {
		if n := rawInt(t, s, "SELECT COUNT(*) FROM %s", table); n != 0 {
			t.Errorf("%d rows in %s after a failed Apply, want 0", n, table)
		}
	}
	// The event was not recorded: applying it again runs fn.
	if err := s.Apply(t.Context(), ev, pay); err != nil {
		t.Fatalf("Apply after a failed Apply: %v", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("fn ran %d times, want 2", n)
	}
}

func testApplyConcurrentSameEvent(t *testing.T, s bookings.Store) {
	const workers = 20
	b := mustCreate(t, s, minimalBooking("+15550010000"))
	ev := bookings.Event{Source: "stripe", ID: "evt_concurrent", Type: "charge.refunded", ReceivedAt: t0}
	var calls atomic.Int64
	fn := func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		calls.Add(1)
		_, err := tx.AddTransaction(ctx, bookings.Transaction{BookingID: b.ID, Kind: bookings.KindRefund,
			Amount: 100, Currency: "usd", StripeObjectID: "ch_1"}) // no event id: no unique key to lean on
		return bookings.Result{BookingID: b.ID, Outcome: "refunded"}, err
	}
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() { errs[i] = s.Apply(t.Context(), ev, fn) })
	}
	wg.Wait()
	var applied, already int
	for _, err := range errs {
		switch {
		case err == nil:
			applied++
		case errors.Is(err, bookings.ErrAlreadyApplied):
			already++
		default:
			t.Errorf("Apply: %v", err)
		}
	}
	if applied != 1 || already != workers-1 {
		t.Errorf("%d applied, %d already applied; want 1 and %d", applied, already, workers-1)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("fn ran %d times, want 1", n)
	}
	if n := rawInt(t, s, "SELECT COUNT(*) FROM transactions WHERE booking_id = %d", b.ID); n != 1 {
		t.Errorf("%d transactions, want 1", n)
	}
}

// testApplyConcurrentBookingLock applies distinct events to one booking at
// once: BookingForUpdate must serialise them so no update is lost.
func testApplyConcurrentBookingLock(t *testing.T, s bookings.Store) {
	const workers = 10
	b := mustCreate(t, s, minimalBooking("+15550011111"))
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		ev := bookings.Event{Source: "stripe", ID: "evt_lock_" + string(rune('a'+i)), Type: "test"}
		wg.Go(func() {
			errs[i] = s.Apply(t.Context(), ev, func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
				cur, err := tx.BookingForUpdate(ctx, b.ID)
				if err != nil {
					return bookings.Result{}, err
				}
				cur.DepositAmount++
				return bookings.Result{BookingID: b.ID}, tx.UpdateBooking(ctx, cur, t0)
			})
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("Apply: %v", err)
		}
	}
	if got := mustGet(t, s, b.ID).DepositAmount; got != workers {
		t.Errorf("DepositAmount = %d after %d increments, want %d", got, workers, workers)
	}
}

func testRun(t *testing.T, s bookings.Store) {
	b := mustCreate(t, s, minimalBooking("+15550012222"))
	cancel := func(ctx context.Context, tx bookings.Tx) (bookings.Booking, error) {
		cur, err := tx.BookingForUpdate(ctx, b.ID)
		if err != nil {
			return cur, err
		}
		cur.Status = bookings.StatusCancelled
		return cur, tx.UpdateBooking(ctx, cur, t0)
	}
	err := s.Run(t.Context(), func(ctx context.Context, tx bookings.Tx) error {
		if _, err := cancel(ctx, tx); err != nil {
			return err
		}
		return errBoom
	})
	if !errors.Is(err, errBoom) {
		t.Fatalf("Run: error = %v, want %v", err, errBoom)
	}
	diff(t, "booking after a failed Run", b, mustGet(t, s, b.ID))
	var want bookings.Booking
	run(t, s, func(ctx context.Context, tx bookings.Tx) error {
		var err error
		want, err = cancel(ctx, tx)
		return err
	})
	want.UpdatedAt = t0
	diff(t, "booking after Run", want, mustGet(t, s, b.ID))
}

func testPing(t *testing.T, s bookings.Store) {
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping: %v", err)
	}
}
