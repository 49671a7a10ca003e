package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/reserveeasy/gateway/bookings"
)

func testEvents(t *testing.T, s bookings.Store) {
	b1 := mustCreate(t, s, minimalBooking("+15550017777"))
	b2 := mustCreate(t, s, minimalBooking("+15550018888"))
	rec := func(src, id, typ string, at time.Duration, booking int64, outcome string) bookings.EventRecord {
		return bookings.EventRecord{Event: bookings.Event{Source: src, ID: id, Type: typ, ReceivedAt: t0.Add(at)},
			BookingID: booking, Outcome: outcome}
	}
	e1 := rec("stripe", "evt_a", "payment_intent.succeeded", 0, b1.ID, "paid")
	e2 := rec("stripe", "evt_b", "payment_intent.payment_failed", time.Minute, b2.ID, "")
	e3 := rec("twilio", "SM1:delivered", "sms_status", 2*time.Minute, b1.ID, "delivered")
	e4 := rec("twilio", "SM2:sent", "sms_status", 3*time.Minute, 0, "no_booking")
	e5 := rec("twilio", "SM1:sent", "sms_status", 4*time.Minute, b1.ID, "stale_status")
	e6 := rec("twilio", "SM10:sent", "sms_status", 5*time.Minute, 0, "no_booking")
	for _, e := range []bookings.EventRecord{e1, e2, e3, e4, e5, e6} {
		err := s.Apply(t.Context(), e.Event, func(context.Context, bookings.Tx) (bookings.Result, error) {
			return bookings.Result{BookingID: e.BookingID, Outcome: e.Outcome}, nil
		})
		if err != nil {
			t.Fatalf("Apply(%+v): %v", e.Event, err)
		}
	}
	tests := []struct {
		name string
		f    bookings.EventFilter
		want []bookings.EventRecord
	}{
		{"all", bookings.EventFilter{}, []bookings.EventRecord{e6, e5, e4, e3, e2, e1}},
		{"source", bookings.EventFilter{Source: "stripe"}, []bookings.EventRecord{e2, e1}},
		{"type", bookings.EventFilter{Type: "sms_status"}, []bookings.EventRecord{e6, e5, e4, e3}},
		{"event id", bookings.EventFilter{EventID: "evt_b"}, []bookings.EventRecord{e2}},
		{"event id prefix: one message's callbacks", bookings.EventFilter{EventIDPrefix: "SM1:"}, []bookings.EventRecord{e5, e3}},
		{"event id prefix is literal", bookings.EventFilter{EventIDPrefix: "SM_:"}, nil},
		{"event id prefix is case-sensitive", bookings.EventFilter{EventIDPrefix: "sm1:"}, nil},
		{"event id prefix and limit", bookings.EventFilter{EventIDPrefix: "SM", Limit: 3}, []bookings.EventRecord{e6, e5, e4}},
		{"booking", bookings.EventFilter{BookingID: b1.ID}, []bookings.EventRecord{e5, e3, e1}},
		{"limit", bookings.EventFilter{Limit: 2}, []bookings.EventRecord{e6, e5}},
		{"source and booking", bookings.EventFilter{Source: "twilio", BookingID: b1.ID}, []bookings.EventRecord{e5, e3}},
		{"no match", bookings.EventFilter{EventID: "evt_none"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.Events(t.Context(), tt.f)
			if err != nil {
				t.Fatalf("Events: %v", err)
			}
			for _, e := range got {
				if e.ProcessedAt.IsZero() {
					t.Errorf("event %s has no ProcessedAt", e.ID)
				}
			}
			diff(t, "Events", tt.want, got, cmpopts.IgnoreFields(bookings.EventRecord{}, "ProcessedAt"),
				cmpopts.EquateEmpty())
		})
	}
}
