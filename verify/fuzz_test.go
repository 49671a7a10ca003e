package verify_test

import (
	"encoding/json"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/verify"
)

// Seed corpora also live in testdata/fuzz/<FuzzName>/.

// FuzzTwilio checks that Twilio never panics, that what SignTwilio signs
// verifies, and that flipping any byte of the signature makes it fail.
func FuzzTwilio(f *testing.F) {
	f.Add(docToken, docURL, []byte(docParams().Encode()), docSig, byte(1))
	f.Add("tok", "https://example.com/hook", []byte("To=%2B1&Addr=%2B1855&Addr=%2B1833"), "", byte(0x80))
	f.Add("tok", "http://localhost:8080/h?bodySHA256=abc", []byte(`{"a":1}`), "x", byte(3))
	f.Add("t", "https://[::1]:443/h", []byte("a=1&&b&=c"), "AAAA", byte(0xff))

	f.Fuzz(func(t *testing.T, token, fullURL string, body []byte, sig string, mask byte) {
		tokens := []string{token}
		_, _ = verify.Twilio(verify.TwilioRequest{URL: fullURL, Signature: sig, ContentType: formType, Body: body}, tokens)
		_, _ = verify.Twilio(verify.TwilioRequest{URL: fullURL, Signature: sig, ContentType: "application/json", Body: body}, tokens)

		if token == "" {
			return // an empty token verifies nothing by design
		}
		params, err := verify.ParseTwilioForm(body)
		if err != nil {
			return
		}
		u, err := url.Parse(fullURL)
		if err != nil || u.Query().Get("bodySHA256") != "" {
			return // not a form request Twilio could have signed
		}

		good := verify.SignTwilio(token, fullURL, params)
		req := verify.TwilioRequest{URL: fullURL, Signature: good, ContentType: formType, Body: body}
		got, err := verify.Twilio(req, tokens)
		if err != nil {
			t.Fatalf("Twilio(SignTwilio(...)) error = %v", err)
		}
		if diff := cmp.Diff(params, got); diff != "" {
			t.Fatalf("Twilio() params mismatch (-want +got):\n%s", diff)
		}

		if mask == 0 {
			mask = 1
		}
		for i := range len(good) {
			bad := []byte(good)
			bad[i] ^= mask
			req.Signature = string(bad)
			if _, err := verify.Twilio(req, tokens); !errors.Is(err, verify.ErrInvalidSignature) {
				t.Fatalf("signature with byte %d flipped: error = %v, want %v", i, err, verify.ErrInvalidSignature)
			}
		}
	})
}

// FuzzStripe checks that Stripe never panics, that what SignStripe signs
// verifies when the payload is an event, and that flipping any byte of the
// payload makes it fail.
func FuzzStripe(f *testing.F) {
	f.Add(stripePayload("2023-10-16"), whsec, signedAt.Unix(), "t=1,v1=00", uint(10), byte(1))
	f.Add([]byte(`{"id":"evt_1","type":"ping"}`), "s", int64(0), "", uint(0), byte(0x20))
	f.Add([]byte(`{"id":"e","type":"t","data":{"object":null}}`), "whsec_x", int64(-62135596800), "v1=zz,t=x", uint(3), byte(0xff))
	f.Add([]byte(`not json`), "whsec_x", int64(1), "t=1,v1=,v1==,", uint(1), byte(2))

	f.Fuzz(func(t *testing.T, payload []byte, secret string, ts int64, header string, idx uint, mask byte) {
		now := time.Unix(ts, 0)
		secrets := []string{secret}
		_, _ = verify.Stripe(payload, header, secrets, 5*time.Minute, now)

		if secret == "" {
			return // an empty secret verifies nothing by design
		}
		want, err := verify.DecodeStripeEvent(payload)
		if err != nil {
			return
		}

		signed := verify.SignStripe(payload, secret, now)
		got, err := verify.Stripe(payload, signed, secrets, 5*time.Minute, now)
		if err != nil {
			t.Fatalf("Stripe(SignStripe(...)) error = %v", err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("Stripe() event mismatch (-want +got):\n%s", diff)
		}

		if mask == 0 {
			mask = 1
		}
		positions := []int{int(idx % uint(len(payload)))}
		if len(payload) <= 1024 {
			positions = positions[:0]
			for i := range payload {
				positions = append(positions, i)
			}
		}
		for _, i := range positions {
			bad := append([]byte(nil), payload...)
			bad[i] ^= mask
			if _, err := verify.Stripe(bad, signed, secrets, 5*time.Minute, now); !errors.Is(err, verify.ErrInvalidSignature) {
				t.Fatalf("payload with byte %d flipped: error = %v, want %v", i, err, verify.ErrInvalidSignature)
			}
		}
	})
}

// FuzzParseTwilioForm checks that ParseTwilioForm never panics and that
// what it decodes survives re-encoding.
func FuzzParseTwilioForm(f *testing.F) {
	f.Add([]byte(docParams().Encode()))
	f.Add([]byte("a=1&&b&=c&a=%2B"))
	f.Add([]byte("a=%zz;b"))

	f.Fuzz(func(t *testing.T, body []byte) {
		values, err := verify.ParseTwilioForm(body)
		if err != nil {
			if !errors.Is(err, verify.ErrMalformed) {
				t.Fatalf("ParseTwilioForm() error = %v, want %v", err, verify.ErrMalformed)
			}
			return
		}
		again, err := verify.ParseTwilioForm([]byte(values.Encode()))
		if err != nil {
			t.Fatalf("ParseTwilioForm(re-encoded) error = %v", err)
		}
		if diff := cmp.Diff(values, again); diff != "" {
			t.Fatalf("re-encoded form mismatch (-want +got):\n%s", diff)
		}
	})
}

// FuzzDecodeStripeEvent checks that DecodeStripeEvent never panics and that
// what it accepts has an id, a type and a well-formed data.object.
func FuzzDecodeStripeEvent(f *testing.F) {
	f.Add(stripePayload("2020-08-27"))
	f.Add([]byte(`{"id":"evt","type":"t","data":{"object":[1,{"a":null}]}}`))
	f.Add([]byte(`{"id":1}`))

	f.Fuzz(func(t *testing.T, payload []byte) {
		ev, err := verify.DecodeStripeEvent(payload)
		if err != nil {
			if !errors.Is(err, verify.ErrMalformed) {
				t.Fatalf("DecodeStripeEvent() error = %v, want %v", err, verify.ErrMalformed)
			}
			return
		}
		if ev.ID == "" || ev.Type == "" {
			t.Fatalf("DecodeStripeEvent() = %+v without id or type", ev)
		}
		if ev.Object != nil && !json.Valid(ev.Object) {
			t.Fatalf("DecodeStripeEvent() object %q is not JSON", ev.Object)
		}
	})
}
