package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

// addNotifications adds ns in one transaction and returns what each
// AddNotification reported.
func addNotifications(t *testing.T, s bookings.Store, ns ...bookings.Notification) []bool {
	t.Helper()
	var out []bool
	run(t, s, func(ctx context.Context, tx bookings.Tx) error {
		for _, n := range ns {
			ok, err := tx.AddNotification(ctx, n)
			if err != nil {
				return err
			}
			out = append(out, ok)
		}
		return nil
	})
	return out
}

func keys(ns []bookings.Notification) []string {
	var out []string
	for _, n := range ns {
		out = append(out, n.Key)
	}
	return out
}

// byKey returns the one notification whose key starts with key.
func byKey(t *testing.T, s bookings.Store, key string) bookings.Notification {
	t.Helper()
	list, err := s.NotificationsByKeyPrefix(t.Context(), key)
	if err != nil || len(list) != 1 {
		t.Fatalf("NotificationsByKeyPrefix(%q): %v, %d rows; want 1", key, err, len(list))
	}
	return list[0]
}

func testNotifications(t *testing.T, s bookings.Store) {
	b := mustCreate(t, s, minimalBooking("+15550014444"))
	other := mustCreate(t, s, minimalBooking("+15550015555"))
	email := bookings.Notification{BookingID: b.ID, Channel: bookings.ChannelEmail, Template: "payment_failed",
		Recipient: "ann@example.com", Key: "stripe:evt_1:payment_failed", Subject: "Payment failed",
		Body: "Your payment failed. Please update your card.", HTML: "<p>Your payment failed.</p>", CreatedAt: t0}
	mk := func(id int64, key string, at time.Duration) bookings.Notification {
		return bookings.Notification{BookingID: id, Channel: bookings.ChannelSMS, Template: "t",
			Recipient: "+15550014444", Key: key, Body: "hi", CreatedAt: t0.Add(at)}
	}
	changed := email
	changed.Body = "something else"
	got := addNotifications(t, s, email, changed,
		mk(b.ID, "stripe:evt_1:support_alert", time.Second),
		mk(b.ID, "stripe:evt_10:payment_failed", 2*time.Second),
		mk(b.ID, "stripe:evtX1:payment_failed", 3*time.Second),
		mk(other.ID, "twilio:SM%_1:fallback", 4*time.Second))
	diff(t, "AddNotification results", []bool{true, false, true, true, true, true}, got)
	got = addNotifications(t, s, changed)
	diff(t, "AddNotification of an existing key in a later transaction", []bool{false}, got)

	list, err := s.Notifications(t.Context(), b.ID)
	if err != nil {
		t.Fatalf("Notifications: %v", err)
	}
	want := email
	want.Status = bookings.NotificationPending
	if len(list) > 0 {
		want.ID = list[0].ID
		diff(t, "first notification", want, list[0])
	}
	diff(t, "Notifications keys", []string{"stripe:evt_1:payment_failed", "stripe:evt_1:support_alert",
		"stripe:evt_10:payment_failed", "stripe:evtX1:payment_failed"}, keys(list))

	prefixes := []struct {
		prefix string
		want   []string
	}{
		{"stripe:evt_1:", []string{"stripe:evt_1:payment_failed", "stripe:evt_1:support_alert"}},
		{"stripe:evt_1", []string{"stripe:evt_1:payment_failed", "stripe:evt_1:support_alert", "stripe:evt_10:payment_failed"}},
		{"stripe:evt_", []string{"stripe:evt_1:payment_failed", "stripe:evt_1:support_alert", "stripe:evt_10:payment_failed"}},
		{"twilio:SM%_", []string{"twilio:SM%_1:fallback"}},
		{"twilio:SM_", nil},
		{"STRIPE:", nil},
		{"stripe:evt_2:", nil},
	}
	for _, tt := range prefixes {
		list, err := s.NotificationsByKeyPrefix(t.Context(), tt.prefix)
		if err != nil {
			t.Fatalf("NotificationsByKeyPrefix(%q): %v", tt.prefix, err)
		}
		diff(t, "NotificationsByKeyPrefix("+tt.prefix+")", tt.want, keys(list))
	}
}

func testClaimNotification(t *testing.T, s bookings.Store) {
	b := mustCreate(t, s, minimalBooking("+15550016666"))
	addNotifications(t, s, bookings.Notification{BookingID: b.ID, Channel: bookings.ChannelEmail,
		Template: "refund", Recipient: "ann@example.com", Key: "stripe:evt_c:refund", Body: "Refunded", CreatedAt: t0})
	list, err := s.Notifications(t.Context(), b.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("Notifications: %v, %d rows", err, len(list))
	}
	id := list[0].ID
	const stale = 5 * time.Minute
	claim := func(now time.Time) bool {
		t.Helper()
		ok, err := s.ClaimNotification(t.Context(), id, now, now.Add(-stale))
		if err != nil {
			t.Fatalf("ClaimNotification: %v", err)
		}
		return ok
	}
	var claimedAt time.Time // the claim finish answers for
	claim0 := claim
	claim = func(now time.Time) bool {
		t.Helper()
		ok := claim0(now)
		if ok {
			claimedAt = now
		}
		return ok
	}
	finish := func(st bookings.NotificationStatus, provider string, sent time.Time, lastErr string) {
		t.Helper()
		if err := s.FinishNotification(t.Context(), id, claimedAt, st, provider, sent, lastErr); err != nil {
			t.Fatalf("FinishNotification: %v", err)
		}
	}
	steps := []struct {
		name string
		do   func() bool
		want bool
	}{
		{"claim pending", func() bool { return claim(t0) }, true},
		{"claim held", func() bool { return claim(t0.Add(time.Minute)) }, false},
		{"claim stale", func() bool { return claim(t0.Add(10 * time.Minute)) }, true},
		{"the expired claim cannot finish", func() bool {
			err := s.FinishNotification(t.Context(), id, t0, bookings.NotificationSent, "late", t0, "")
			return errors.Is(err, bookings.ErrClaimLost)
		}, true},
		{"retry later", func() bool { finish(bookings.NotificationPending, "", time.Time{}, "smtp: 421"); return true }, true},
		{"pending with its error", func() bool {
			n := byKey(t, s, "stripe:evt_c:refund")
			return n.Status == bookings.NotificationPending && n.LastError == "smtp: 421" && n.Attempts == 2
		}, true},
		{"claim again", func() bool { return claim(t0.Add(11 * time.Minute)) }, true},
		{"sent", func() bool { finish(bookings.NotificationSent, "msg-1", t0.Add(12*time.Minute), ""); return true }, true},
		{"claim done", func() bool { return claim(t0.Add(time.Hour)) }, false},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Errorf("%s: got %v, want %v", st.name, got, st.want)
		}
	}
	want := list[0]
	want.Status, want.ProviderID, want.SentAt, want.Attempts = bookings.NotificationSent, "msg-1", t0.Add(12*time.Minute), 3
	diff(t, "notification", want, byKey(t, s, "stripe:evt_c:refund"))

	if ok, err := s.ClaimNotification(t.Context(), id+1000, t0, t0); ok || err != nil {
		t.Errorf("ClaimNotification of a missing notification = %v, %v; want false, nil", ok, err)
	}
	if err := s.FinishNotification(t.Context(), id+1000, t0, bookings.NotificationSent, "x", t0, ""); err == nil {
		t.Error("FinishNotification of a missing notification succeeded, want an error")
	}
}
