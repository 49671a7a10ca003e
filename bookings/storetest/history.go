package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
)

// testHistory: a booking's timeline holds its events, money, messages and
// transitions in order; a message is found by its provider id.
func testHistory(t *testing.T, s bookings.Store) {
	h, ok := s.(bookings.History)
	if !ok {
		t.Fatalf("%T does not implement bookings.History", s)
	}
	b := minimalBooking("+15550021111")
	b.Status, b.CreatedAt, b.DepositAmount = bookings.StatusPaymentPending, t0, 6000
	b = mustCreate(t, s, b)
	other := mustCreate(t, s, minimalBooking("+15550022222"))
	pay := bookings.Event{Source: "stripe", ID: "evt_hist_pay", Type: "payment_intent.succeeded", ReceivedAt: t0.Add(time.Minute)}
	err := s.Apply(t.Context(), pay, func(ctx context.Context, tx bookings.Tx) (bookings.Result, error) {
		got, err := tx.BookingForUpdate(ctx, b.ID)
		if err != nil {
			return bookings.Result{}, err
		}
		got.Status, got.DepositPaid, got.DepositPaidAt, got.StripePaymentIntentID = bookings.StatusConfirmed, true, t0.Add(2*time.Minute), "pi_hist"
		if err := tx.UpdateBooking(ctx, got, t0.Add(2*time.Minute)); err != nil {
			return bookings.Result{}, err
		}
		if _, err := tx.AddTransaction(ctx, bookings.Transaction{BookingID: b.ID, Kind: bookings.KindPayment, Amount: 6000,
			Currency: "usd", StripeObjectID: "pi_hist", StripeEventID: pay.ID, CreatedAt: t0.Add(3 * time.Minute)}); err != nil {
			return bookings.Result{}, err
		}
		_, err = tx.AddNotification(ctx, bookings.Notification{BookingID: b.ID, Channel: bookings.ChannelSMS, Template: "confirmation",
			Recipient: b.CustomerPhone, Key: "stripe:evt_hist_pay:sms", Body: "hi", CreatedAt: t0.Add(4 * time.Minute)})
		return bookings.Result{BookingID: b.ID, Outcome: "paid"}, err
	})
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	n := byKey(t, s, "stripe:evt_hist_pay:sms")
	c, ok, err := s.ClaimNotification(t.Context(), n.ID, time.Minute)
	if err != nil || !ok {
		t.Fatalf("ClaimNotification: %v %v", ok, err)
	}
	if err := s.FinishNotification(t.Context(), n.ID, c, bookings.NotificationSent, "SMhist01", ""); err != nil {
		t.Fatalf("FinishNotification: %v", err)
	}
	// An event of the other booking stays out of this one's timeline.
	if err := s.Apply(t.Context(), bookings.Event{Source: "stripe", ID: "evt_hist_other", Type: "payment_intent.succeeded"},
		func(context.Context, bookings.Tx) (bookings.Result, error) {
			return bookings.Result{BookingID: other.ID, Outcome: "paid"}, nil
		}); err != nil {
		t.Fatalf("Apply other: %v", err)
	}

	tl, err := h.Timeline(t.Context(), b.ID)
	if err != nil {
		t.Fatalf("Timeline: %v", err)
	}
	var kinds []bookings.EntryKind
	for i, e := range tl.Entries {
		kinds = append(kinds, e.Kind)
		if i > 0 && e.At.Before(tl.Entries[i-1].At) {
			t.Errorf("entry %d (%s at %s) before entry %d (%s)", i, e.Kind, e.At, i-1, tl.Entries[i-1].At)
		}
	}
	// created t0; the event received t0+1m; deposit paid t0+2m; payment
	// t0+3m; message t0+4m.
	want := []bookings.EntryKind{bookings.EntryCreated, bookings.EntryEvent, bookings.EntryTransition,
		bookings.EntryTransaction, bookings.EntryMessage}
	if d := cmp.Diff(want, kinds); d != "" {
		t.Errorf("timeline kinds (-want +got):\n%s", d)
	}
	for _, e := range tl.Entries {
		if e.Kind == bookings.EntryEvent && (e.Event.ID != pay.ID || e.Event.Outcome != "paid") {
			t.Errorf("event entry = %+v, want %s paid", e.Event, pay.ID)
		}
		if e.Kind == bookings.EntryMessage && (e.Notification.ProviderID != "SMhist01" || e.Notification.Status != bookings.NotificationSent) {
			t.Errorf("message entry = %+v, want sent as SMhist01", e.Notification)
		}
	}
	if _, err := h.Timeline(t.Context(), 987654); !errors.Is(err, bookings.ErrNotFound) {
		t.Errorf("Timeline(missing) = %v, want ErrNotFound", err)
	}

	ns, err := h.NotificationsByProviderID(t.Context(), "SMhist01")
	if err != nil || len(ns) != 1 || ns[0].ID != n.ID {
		t.Errorf("NotificationsByProviderID = %+v, %v; want notification %d", ns, err, n.ID)
	}
	if ns, err := h.NotificationsByProviderID(t.Context(), "SMnone"); err != nil || len(ns) != 0 {
		t.Errorf("NotificationsByProviderID(SMnone) = %+v, %v; want none", ns, err)
	}
}
