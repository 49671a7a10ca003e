package verify

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"
)

// StripeEvent is the part of a Stripe event the gateway relies on. Other
// fields are ignored, so events of any API version decode.
type StripeEvent struct {
	ID         string
	Type       string
	APIVersion string
	Created    int64
	Livemode   bool
	// Object is data.object as sent, for decoding by the event's type.
	Object json.RawMessage
}

// Stripe verifies a webhook payload against its Stripe-Signature header and
// decodes it.
//
// The header's timestamp and every v1 signature in it are checked against
// each secret (rotation, or the `stripe listen` secret beside the dashboard
// one); any match passes. The signed timestamp must then be within
// tolerance of now, in the past or the future; a tolerance of zero or less
// means webhook.DefaultTolerance (5m). Unlike stripe-go's ConstructEvent,
// an api_version different from stripe-go's own is accepted.
//
// Errors: ErrNoSecret, ErrMissingSignature, ErrInvalidSignature, ErrTooOld,
// ErrMalformed. The signature is checked before the timestamp, so ErrTooOld
// is only reported for a payload the sender really signed (a replay or a
// late delivery).
func Stripe(payload []byte, header string, secrets []string, tolerance time.Duration, now time.Time) (StripeEvent, error) {
	secrets = usable(secrets)
	if len(secrets) == 0 {
		return StripeEvent{}, ErrNoSecret
	}
	if header == "" {
		return StripeEvent{}, ErrMissingSignature
	}

	var lastErr error
	valid := false
	for _, secret := range secrets {
		if err := webhook.ValidatePayloadIgnoringTolerance(payload, header, secret); err != nil {
			lastErr = err
		} else {
			valid = true
		}
	}
	if !valid {
		return StripeEvent{}, fmt.Errorf("%w: %w", ErrInvalidSignature, lastErr)
	}

	signedAt, err := stripeTimestamp(header)
	if err != nil {
		return StripeEvent{}, err
	}
	if tolerance <= 0 {
		tolerance = webhook.DefaultTolerance
	}
	if d := now.Sub(signedAt); d > tolerance || d < -tolerance {
		return StripeEvent{}, fmt.Errorf("check stripe timestamp %d against now %d: %w",
			signedAt.Unix(), now.Unix(), ErrTooOld)
	}
	return DecodeStripeEvent(payload)
}

// stripeTimestamp returns the t= value of a Stripe-Signature header, read
// the way stripe-go reads it (the last t= wins). stripe-go itself treats a
// header without t= as signed at the zero time, and accepts it when
// ignoring tolerance; here it is an invalid signature.
func stripeTimestamp(header string) (time.Time, error) {
	found := false
	var ts int64
	for _, pair := range strings.Split(header, ",") {
		key, value, ok := strings.Cut(pair, "=")
		if !ok || key != "t" {
			continue
		}
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("read stripe timestamp: %w", ErrInvalidSignature)
		}
		ts, found = n, true
	}
	if !found {
		return time.Time{}, fmt.Errorf("read stripe header without timestamp: %w", ErrInvalidSignature)
	}
	return time.Unix(ts, 0), nil
}

// stripeEventJSON is the wire form DecodeStripeEvent reads.
type stripeEventJSON struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	APIVersion string `json:"api_version"`
	Created    int64  `json:"created"`
	Livemode   bool   `json:"livemode"`
	Data       struct {
		Object json.RawMessage `json:"object"`
	} `json:"data"`
}

// DecodeStripeEvent decodes a Stripe event without verifying it, reading
// only id, type, api_version, created, livemode and data.object. Unknown
// fields and any api_version are accepted. It returns ErrMalformed when
// the payload is not a JSON object of that shape or lacks id or type.
func DecodeStripeEvent(payload []byte) (StripeEvent, error) {
	var raw stripeEventJSON
	if err := json.Unmarshal(payload, &raw); err != nil {
		return StripeEvent{}, fmt.Errorf("decode stripe event: %w: %w", ErrMalformed, err)
	}
	if raw.ID == "" || raw.Type == "" {
		return StripeEvent{}, fmt.Errorf("decode stripe event without id or type: %w", ErrMalformed)
	}
	return StripeEvent{
		ID:         raw.ID,
		Type:       raw.Type,
		APIVersion: raw.APIVersion,
		Created:    raw.Created,
		Livemode:   raw.Livemode,
		Object:     raw.Data.Object,
	}, nil
}

// SignStripe returns the Stripe-Signature header Stripe would send for
// payload signed with secret at time t, as "t=<unix>,v1=<hex>". It wraps
// webhook.GenerateTestSignedPayload, except for the zero t, which that
// helper would replace with the current time.
func SignStripe(payload []byte, secret string, t time.Time) string {
	if t.IsZero() {
		sig := webhook.ComputeSignature(t, payload, secret)
		return fmt.Sprintf("t=%d,v1=%s", t.Unix(), hex.EncodeToString(sig))
	}
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
		Payload:   payload,
		Secret:    secret,
		Timestamp: t,
	})
	return signed.Header
}
