package verify_test

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reserveeasy/gateway/verify"
)

const (
	whsec      = "whsec_test_secret"
	whsecOther = "whsec_other_secret"
)

var signedAt = time.Unix(1_700_000_000, 0)

// stripePayload returns an event JSON with the given api_version.
func stripePayload(apiVersion string) []byte {
	return []byte(fmt.Sprintf(`{
  "id": "evt_1",
  "object": "event",
  "api_version": %q,
  "created": 1700000000,
  "livemode": false,
  "pending_webhooks": 1,
  "request": {"id": null, "idempotency_key": null},
  "type": "payment_intent.succeeded",
  "data": {"object": {"id": "pi_1", "object": "payment_intent", "metadata": {"booking_id": "42"}}}
}`, apiVersion))
}

func wantEvent(apiVersion string) verify.StripeEvent {
	return verify.StripeEvent{
		ID:         "evt_1",
		Type:       "payment_intent.succeeded",
		APIVersion: apiVersion,
		Created:    1_700_000_000,
		Object:     json.RawMessage(`{"id": "pi_1", "object": "payment_intent", "metadata": {"booking_id": "42"}}`),
	}
}

// stripeHeader signs payload with stripe-go's own test helper.
func stripeHeader(t *testing.T, payload []byte, secret string, at time.Time) string {
	t.Helper()
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload: payload, Secret: secret, Timestamp: at,
	}).Header
}

func TestStripe(t *testing.T) {
	current := stripePayload(stripe.APIVersion)
	old := stripePayload("2020-08-27")
	goodV1 := hex.EncodeToString(webhook.ComputeSignature(signedAt, current, whsec))
	wrongV1 := hex.EncodeToString(webhook.ComputeSignature(signedAt, current, "whsec_wrong"))
	flipped := append([]byte(nil), current...)
	flipped[10] ^= 0x01
	zeroTimeV1 := hex.EncodeToString(webhook.ComputeSignature(time.Time{}, current, whsec))

	tests := []struct {
		name      string
		payload   []byte
		header    string
		secrets   []string
		tolerance time.Duration
		now       time.Time
		want      verify.StripeEvent
		wantErr   error
	}{
		{name: "signed by stripe-go", payload: current, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, want: wantEvent(stripe.APIVersion)},
		{name: "signed by SignStripe", payload: current, header: verify.SignStripe(current, whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt.Add(time.Minute), want: wantEvent(stripe.APIVersion)},
		{name: "older api_version", payload: old, header: stripeHeader(t, old, whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, want: wantEvent("2020-08-27")},
		{name: "several v1, one right", payload: current, header: fmt.Sprintf("t=%d,v1=%s,v1=%s,v0=%s", signedAt.Unix(), wrongV1, goodV1, wrongV1), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, want: wantEvent(stripe.APIVersion)},
		{name: "second secret", payload: current, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsecOther, whsec}, tolerance: 5 * time.Minute, now: signedAt, want: wantEvent(stripe.APIVersion)},
		{name: "at the tolerance edge", payload: current, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt.Add(5 * time.Minute), want: wantEvent(stripe.APIVersion)},
		{name: "zero tolerance means the default", payload: current, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsec}, now: signedAt.Add(4 * time.Minute), want: wantEvent(stripe.APIVersion)},
		{name: "expired", payload: current, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt.Add(5*time.Minute + time.Second), wantErr: verify.ErrTooOld},
		{name: "expired under the default tolerance", payload: current, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsec}, now: signedAt.Add(6 * time.Minute), wantErr: verify.ErrTooOld},
		{name: "future beyond tolerance", payload: current, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt.Add(-5*time.Minute - time.Second), wantErr: verify.ErrTooOld},
		{name: "tampered payload", payload: []byte(strings.Replace(string(current), `"42"`, `"43"`, 1)), header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrInvalidSignature},
		{name: "flipped byte", payload: flipped, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrInvalidSignature},
		{name: "tampered timestamp", payload: current, header: fmt.Sprintf("t=%d,v1=%s", signedAt.Unix()+1, goodV1), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrInvalidSignature},
		{name: "tampered and expired", payload: flipped, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt.Add(time.Hour), wantErr: verify.ErrInvalidSignature},
		{name: "wrong secret", payload: current, header: stripeHeader(t, current, whsec, signedAt), secrets: []string{whsecOther}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrInvalidSignature},
		{name: "no v1 signature", payload: current, header: fmt.Sprintf("t=%d,v0=%s", signedAt.Unix(), goodV1), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrInvalidSignature},
		{name: "unreadable header", payload: current, header: "garbage", secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrInvalidSignature},
		{name: "no timestamp (stripe-go reads it as the zero time)", payload: current, header: "v1=" + zeroTimeV1, secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrInvalidSignature},
		{name: "missing header", payload: current, secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrMissingSignature},
		{name: "no secrets", payload: current, header: stripeHeader(t, current, whsec, signedAt), tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrNoSecret},
		{name: "only blank secrets", payload: current, header: stripeHeader(t, current, "", signedAt), secrets: []string{""}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrNoSecret},
		{name: "bad json, valid signature", payload: []byte(`{"id":`), header: stripeHeader(t, []byte(`{"id":`), whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrMalformed},
		{name: "no id, valid signature", payload: []byte(`{"type":"x"}`), header: stripeHeader(t, []byte(`{"type":"x"}`), whsec, signedAt), secrets: []string{whsec}, tolerance: 5 * time.Minute, now: signedAt, wantErr: verify.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verify.Stripe(tt.payload, tt.header, tt.secrets, tt.tolerance, tt.now)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Stripe() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Stripe() event mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestStripeGoRejectsOldAPIVersion documents why Stripe does not call
// webhook.ConstructEvent: it refuses events of another api_version.
func TestStripeGoRejectsOldAPIVersion(t *testing.T) {
	old := stripePayload("2020-08-27")
	header := verify.SignStripe(old, whsec, signedAt)
	_, err := webhook.ConstructEventWithOptions(old, header, whsec, webhook.ConstructEventOptions{IgnoreTolerance: true})
	if err == nil {
		t.Fatal("stripe-go accepted an event of another api_version; Stripe's workaround may be unneeded")
	}
	if _, err := verify.Stripe(old, header, []string{whsec}, time.Minute, signedAt); err != nil {
		t.Errorf("Stripe() error = %v, want nil", err)
	}
}

// TestStripeGoAcceptsHeaderWithoutTimestamp documents why Stripe reads t=
// itself: stripe-go treats a missing t= as the zero time, so a header
// signed over "-62135596800.<payload>" passes when tolerance is ignored.
func TestStripeGoAcceptsHeaderWithoutTimestamp(t *testing.T) {
	payload := stripePayload(stripe.APIVersion)
	header := "v1=" + hex.EncodeToString(webhook.ComputeSignature(time.Time{}, payload, whsec))
	if err := webhook.ValidatePayloadIgnoringTolerance(payload, header, whsec); err != nil {
		t.Fatalf("stripe-go now rejects a header without t= (%v); the test case above may be redundant", err)
	}
	if _, err := verify.Stripe(payload, header, []string{whsec}, time.Minute, signedAt); !errors.Is(err, verify.ErrInvalidSignature) {
		t.Errorf("Stripe() error = %v, want %v", err, verify.ErrInvalidSignature)
	}
}

func TestSignStripe(t *testing.T) {
	payload := stripePayload(stripe.APIVersion)
	tests := []struct {
		name string
		at   time.Time
	}{
		{"ordinary time", signedAt},
		{"unix epoch", time.Unix(0, 0)},
		{"zero time is kept, not replaced by now", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := verify.SignStripe(payload, whsec, tt.at)
			want := fmt.Sprintf("t=%d,v1=%s", tt.at.Unix(), hex.EncodeToString(webhook.ComputeSignature(tt.at, payload, whsec)))
			if diff := cmp.Diff(want, header); diff != "" {
				t.Errorf("SignStripe() mismatch (-want +got):\n%s", diff)
			}
			if err := webhook.ValidatePayloadIgnoringTolerance(payload, header, whsec); err != nil {
				t.Errorf("stripe-go rejects SignStripe's header: %v", err)
			}
		})
	}
}

func TestDecodeStripeEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    verify.StripeEvent
		wantErr error
	}{
		{
			name:    "full event",
			payload: string(stripePayload("2023-10-16")),
			want:    wantEvent("2023-10-16"),
		},
		{
			name:    "unknown fields and future api_version",
			payload: `{"id":"evt_2","type":"charge.refunded","api_version":"2099-01-01.preview","livemode":true,"new_field":{"x":[1,2]},"data":{"object":{"id":"ch_1"},"previous_attributes":{}}}`,
			want:    verify.StripeEvent{ID: "evt_2", Type: "charge.refunded", APIVersion: "2099-01-01.preview", Livemode: true, Object: json.RawMessage(`{"id":"ch_1"}`)},
		},
		{
			name:    "minimal",
			payload: `{"id":"evt_3","type":"ping"}`,
			want:    verify.StripeEvent{ID: "evt_3", Type: "ping"},
		},
		{name: "missing id", payload: `{"type":"ping"}`, wantErr: verify.ErrMalformed},
		{name: "missing type", payload: `{"id":"evt_3"}`, wantErr: verify.ErrMalformed},
		{name: "null", payload: `null`, wantErr: verify.ErrMalformed},
		{name: "array", payload: `[]`, wantErr: verify.ErrMalformed},
		{name: "truncated", payload: `{"id":"evt_3","type":"ping"`, wantErr: verify.ErrMalformed},
		{name: "trailing garbage", payload: `{"id":"evt_3","type":"ping"} x`, wantErr: verify.ErrMalformed},
		{name: "wrong field type", payload: `{"id":"evt_3","type":"ping","created":"yesterday"}`, wantErr: verify.ErrMalformed},
		{name: "empty", payload: ``, wantErr: verify.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verify.DecodeStripeEvent([]byte(tt.payload))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("DecodeStripeEvent() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeStripeEvent() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
