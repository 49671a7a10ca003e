package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

func testReconcilePoint(t *testing.T, s bookings.Store) {
	ctx := t.Context()
	got, err := s.ReconcilePoint(ctx, "stripe")
	if err != nil || !got.IsZero() {
		t.Fatalf("ReconcilePoint before any = %v, %v; want zero, nil", got, err)
	}
	for _, at := range []time.Time{t0, t0.Add(time.Hour)} {
		if err := s.SetReconcilePoint(ctx, "stripe", at); err != nil {
			t.Fatalf("SetReconcilePoint(%v): %v", at, err)
		}
		got, err := s.ReconcilePoint(ctx, "stripe")
		if err != nil || !got.Equal(at) {
			t.Errorf("ReconcilePoint = %v, %v; want %v", got, err, at)
		}
	}
	if got, err := s.ReconcilePoint(ctx, "other"); err != nil || !got.IsZero() {
		t.Errorf("ReconcilePoint(other) = %v, %v; want zero: points are per source", got, err)
	}
}

func testExpiredHolds(t *testing.T, s bookings.Store) {
	pending := func(phone string, hold time.Time, mod func(*bookings.Booking)) int64 {
		b := minimalBooking(phone)
		b.Status, b.HoldExpiresAt = bookings.StatusPaymentPending, hold
		if mod != nil {
			mod(&b)
		}
		return mustCreate(t, s, b).ID
	}
	late := pending("+15550020001", t0.Add(-2*time.Hour), nil)
	early := pending("+15550020002", t0.Add(-3*time.Hour), nil)
	pending("+15550020003", t0.Add(time.Minute), nil) // not expired yet
	pending("+15550020004", t0.Add(-time.Hour), func(b *bookings.Booking) { b.DepositPaid = true })
	pending("+15550020005", t0.Add(-time.Hour), func(b *bookings.Booking) { b.CancelledAt = t0 })
	pending("+15550020006", time.Time{}, nil) // no hold
	pending("+15550020007", t0.Add(-time.Hour), func(b *bookings.Booking) {
		b.Status, b.CancelledAt = bookings.StatusCancelled, t0
	})
	mustCreate(t, s, minimalBooking("+15550020008")) // confirmed
	got, err := s.ExpiredHolds(t.Context(), t0)
	if err != nil {
		t.Fatalf("ExpiredHolds: %v", err)
	}
	var ids []int64
	for _, b := range got {
		ids = append(ids, b.ID)
	}
	diff(t, "ExpiredHolds ids", []int64{early, late}, ids)
}

func testUnfinishedSMS(t *testing.T, s bookings.Store) {
	withSMS := func(phone, sid, status string, updated time.Time) int64 {
		b := minimalBooking(phone)
		b.SMSMessageSID, b.SMSStatus, b.UpdatedAt = sid, status, updated
		return mustCreate(t, s, b).ID
	}
	sentOld := withSMS("+15550021001", "SM01", "sent", t0.Add(-time.Hour))
	none := withSMS("+15550021002", "SM02", "", t0.Add(-2*time.Hour))
	withSMS("+15550021003", "SM03", "delivered", t0.Add(-time.Hour))
	withSMS("+15550021004", "SM04", "undelivered", t0.Add(-time.Hour))
	withSMS("+15550021005", "SM05", "queued", t0.Add(-time.Minute))   // within the grace
	withSMS("+15550021006", "SM06", "queued", t0.Add(-100*time.Hour)) // before the window
	withSMS("+15550021007", "log-123", "", t0.Add(-time.Hour))        // not a Twilio sid
	withSMS("+15550021008", "", "", t0.Add(-time.Hour))               // no SMS
	// The notification's sent_at, not the booking's updated_at, says
	// when the SMS left: a booking updated since is still in the window.
	viaNote := withSMS("+15550021009", "SM09", "queued", t0)
	run(t, s, func(ctx context.Context, tx bookings.Tx) error {
		_, err := tx.AddNotification(ctx, bookings.Notification{BookingID: viaNote, Channel: bookings.ChannelSMS,
			Template: "confirmation_sms", Recipient: "+15550021009", Key: "reconcile-test:sms", Body: "b", CreatedAt: t0.Add(-90 * time.Minute)})
		return err
	})
	ns, err := s.NotificationsByKeyPrefix(t.Context(), "reconcile-test:")
	if err != nil || len(ns) != 1 {
		t.Fatalf("NotificationsByKeyPrefix = %v, %v", ns, err)
	}
	// The claim and sent_at are on the database's clock (now), not t0's.
	c, ok, err := s.ClaimNotification(t.Context(), ns[0].ID, time.Minute)
	if !ok || err != nil {
		t.Fatalf("ClaimNotification = %v, %v", ok, err)
	}
	if err := s.FinishNotification(t.Context(), ns[0].ID, c, bookings.NotificationSent, "SM09", ""); err != nil {
		t.Fatalf("FinishNotification: %v", err)
	}
	got, err := s.UnfinishedSMS(t.Context(), t0.Add(-72*time.Hour), t0.Add(-10*time.Minute))
	if err != nil {
		t.Fatalf("UnfinishedSMS: %v", err)
	}
	var ids []int64
	for _, b := range got {
		ids = append(ids, b.ID)
	}
	diff(t, "UnfinishedSMS ids around t0", []int64{none, sentOld}, ids)
	now := time.Now()
	got, err = s.UnfinishedSMS(t.Context(), now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatalf("UnfinishedSMS: %v", err)
	}
	ids = nil
	for _, b := range got {
		ids = append(ids, b.ID)
	}
	diff(t, "UnfinishedSMS ids by the notification's sent_at", []int64{viaNote}, ids)
}
