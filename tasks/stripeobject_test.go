package tasks_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stripe/stripe-go/v76"

	"github.com/reserveeasy/gateway/tasks"
)

func TestDecodeStripeObject(t *testing.T) {
	sdkCharge, err := json.Marshal(stripe.Charge{ID: "ch_1", Object: "charge", Amount: 6000, AmountRefunded: 6000,
		Refunded: true, Currency: "usd", PaymentIntent: &stripe.PaymentIntent{ID: "pi_sdk"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		raw  string
		want tasks.StripeObject
	}{
		{"payment intent as Stripe sends it",
			`{"id":"pi_1","object":"payment_intent","amount":6000,"amount_received":6000,"currency":"usd","metadata":{"booking_id":"42"},"last_payment_error":null}`,
			tasks.StripeObject{ID: "pi_1", Object: "payment_intent", Amount: 6000, AmountReceived: 6000, Currency: "usd", Metadata: map[string]string{"booking_id": "42"}}},
		{"charge built with stripe-go's types (expanded payment_intent)", string(sdkCharge),
			tasks.StripeObject{ID: "ch_1", Object: "charge", Amount: 6000, AmountRefunded: 6000, Refunded: true, Currency: "usd", PaymentIntent: "pi_sdk"}},
		{"partly refunded charge", `{"id":"ch_2","object":"charge","amount":6000,"amount_refunded":2000,"refunded":false}`,
			tasks.StripeObject{ID: "ch_2", Object: "charge", Amount: 6000, AmountRefunded: 2000}},
		{"numeric metadata and upper-case currency",
			`{"id":"pi_2","amount":"6000","currency":"EUR","metadata":{"booking_id":15,"vip":true,"note":null}}`,
			tasks.StripeObject{ID: "pi_2", Amount: 6000, Currency: "eur", Metadata: map[string]string{"booking_id": "15", "vip": "true"}}},
		{"failure message", `{"id":"pi_3","last_payment_error":{"code":"card_declined","message":"Your card was declined."}}`,
			tasks.StripeObject{ID: "pi_3", FailureMessage: "Your card was declined."}},
		{"ill-typed fields are ignored", `{"id":7,"amount":{"x":1},"metadata":[1],"payment_intent":3,"refunded":"yes"}`, tasks.StripeObject{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tasks.DecodeStripeObject(json.RawMessage(tt.raw))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	for _, raw := range []string{`[]`, `"pi_1"`, `null`, `{`} {
		if _, err := tasks.DecodeStripeObject(json.RawMessage(raw)); !errors.Is(err, tasks.ErrNotAnObject) {
			t.Errorf("%s: err = %v, want ErrNotAnObject", raw, err)
		}
	}
}

func FuzzDecodeStripeObject(f *testing.F) {
	for _, s := range []string{`{"id":"pi_1","amount":6000,"metadata":{"booking_id":"1"}}`, `{"payment_intent":{"id":"pi"}}`, `[]`, `{"metadata":{"a":1e400}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		o, err := tasks.DecodeStripeObject(raw)
		if err == nil && o.BookingID() < 0 {
			t.Fatalf("negative booking id from %q", raw)
		}
	})
}
