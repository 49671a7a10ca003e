package bookings_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
)

func TestNewTimeline(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 18, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	failed := bookings.EventRecord{Event: bookings.Event{Source: "stripe", ID: "evt_f", Type: "payment_intent.payment_failed", ReceivedAt: at(1)}, ProcessedAt: at(1), Outcome: "payment_pending"}
	tests := []struct {
		name string
		b    bookings.Booking
		evs  []bookings.EventRecord
		ns   []bookings.Notification
		want []string
	}{
		{"created only", bookings.Booking{CreatedAt: t0, Status: bookings.StatusPaymentPending},
			nil, nil, []string{"created booking created"}},
		{"hold running", bookings.Booking{CreatedAt: t0, Status: bookings.StatusPaymentPending, HoldExpiresAt: at(120)},
			[]bookings.EventRecord{failed}, []bookings.Notification{{Channel: "email", Template: "payment_failed", Status: "sent", CreatedAt: at(1)}},
			[]string{"created booking created", "event stripe payment_intent.payment_failed: payment_pending",
				"message email payment_failed: sent", "hold auto-cancel due unless the deposit is paid"}},
		{"cancelled: no hold shown", bookings.Booking{CreatedAt: t0, Status: bookings.StatusCancelled, HoldExpiresAt: at(120),
			CancelledAt: at(120), CancelReason: bookings.CancelReasonPaymentNotReceived},
			[]bookings.EventRecord{failed}, nil,
			[]string{"created booking created", "event stripe payment_intent.payment_failed: payment_pending",
				"transition cancelled (payment_not_received)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range bookings.NewTimeline(tt.b, tt.evs, nil, tt.ns).Entries {
				got = append(got, string(e.Kind)+" "+e.What)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("entries (-want +got):\n%s", d)
			}
		})
	}
}
