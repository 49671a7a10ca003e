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
	const lease, short = time.Hour, 20 * time.Millisecond
	var c bookings.Claim // the claim finish answers for
	claim := func(lease time.Duration) bool {
		t.Helper()
		got, ok, err := s.ClaimNotification(t.Context(), id, lease)
		if err != nil {
			t.Fatalf("ClaimNotification: %v", err)
		}
		if ok {
			if got.Attempt != c.Attempt+1 || time.Since(got.At).Abs() > time.Minute {
				t.Errorf("claim = %+v after %+v: want the next attempt, made now on the database's clock", got, c)
			}
			c = got
		}
		return ok
	}
	// claimStale polls until the claim made a moment ago is older than
	// short on the database's clock and is taken over.
	claimStale := func() bool {
		t.Helper()
		poll := time.NewTicker(short / 2)
		defer poll.Stop()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); <-poll.C {
			if claim(short) {
				return true
			}
		}
		return false
	}
	finish := func(st bookings.NotificationStatus, provider, lastErr string) {
		t.Helper()
		if err := s.FinishNotification(t.Context(), id, c, st, provider, lastErr); err != nil {
			t.Fatalf("FinishNotification: %v", err)
		}
	}
	steps := []struct {
		name string
		do   func() bool
		want bool
	}{
		{"claim pending", func() bool { return claim(lease) }, true},
		{"claim held", func() bool { return claim(lease) }, false},
		{"claim stale on the database's clock", claimStale, true},
		{"the expired claim cannot finish", func() bool {
			err := s.FinishNotification(t.Context(), id, bookings.Claim{Attempt: 1}, bookings.NotificationSent, "late", "")
			return errors.Is(err, bookings.ErrClaimLost)
		}, true},
		{"retry later", func() bool { finish(bookings.NotificationPending, "", "smtp: 421"); return true }, true},
		{"pending with its error", func() bool {
			n := byKey(t, s, "stripe:evt_c:refund")
			return n.Status == bookings.NotificationPending && n.LastError == "smtp: 421" && n.Attempts == 2 && n.SentAt.IsZero()
		}, true},
		{"claim again", func() bool { return claim(lease) }, true},
		{"outcome unknown", func() bool { finish(bookings.NotificationUnknown, "", "twilio: connection reset"); return true }, true},
		{"unknown kept with its error", func() bool {
			n := byKey(t, s, "stripe:evt_c:refund")
			return n.Status == bookings.NotificationUnknown && n.LastError == "twilio: connection reset"
		}, true},
		{"claim unknown", func() bool { return claim(lease) }, true},
		{"sent", func() bool { finish(bookings.NotificationSent, "msg-1", ""); return true }, true},
		{"claim done", func() bool { return claim(0) }, false},
	}
	for _, st := range steps {
		if got := st.do(); got != st.want {
			t.Errorf("%s: got %v, want %v", st.name, got, st.want)
		}
	}
	got := byKey(t, s, "stripe:evt_c:refund")
	if time.Since(got.SentAt).Abs() > time.Minute {
		t.Errorf("sent_at = %v, want the database's time of the outcome", got.SentAt)
	}
	want := list[0]
	want.Status, want.ProviderID, want.SentAt, want.Attempts = bookings.NotificationSent, "msg-1", got.SentAt, 4
	diff(t, "notification", want, got)

	if _, ok, err := s.ClaimNotification(t.Context(), id+1000, 0); ok || err != nil {
		t.Errorf("ClaimNotification of a missing notification = %v, %v; want false, nil", ok, err)
	}
	if err := s.FinishNotification(t.Context(), id+1000, bookings.Claim{Attempt: 1}, bookings.NotificationSent, "x", ""); err == nil {
		t.Error("FinishNotification of a missing notification succeeded, want an error")
	}
}
