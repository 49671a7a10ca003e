package verify_test

import (
	"testing"
	"time"

	"github.com/reserveeasy/gateway/loadgen"
	"github.com/reserveeasy/gateway/verify"
)

// Micro-benchmarks of the verifiers and decoders on the load generator's
// realistic events (a 3 KB payment_intent event, a Twilio status
// callback): make bench-micro.

const benchURL = "https://api.reserveeasy.test/api/v1/webhooks/twilio/sms-status"

func benchStripe(b *testing.B, secrets []string) {
	now := time.Unix(1_700_000_000, 0)
	ev := loadgen.Generate(loadgen.Mix{Provider: loadgen.Stripe}, 1, 1)[0]
	_, sig := loadgen.Signer{Provider: loadgen.Stripe, StripeSecret: secrets[len(secrets)-1]}.Sign(&ev, now)
	b.SetBytes(int64(len(ev.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.Stripe(ev.Body, sig, secrets, 5*time.Minute, now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStripe(b *testing.B) { benchStripe(b, []string{"whsec_bench"}) }

// BenchmarkStripeRotation has the signing secret second of two, as during
// a rotation: every secret is tried.
func BenchmarkStripeRotation(b *testing.B) { benchStripe(b, []string{"whsec_old", "whsec_bench"}) }

func BenchmarkDecodeStripeEvent(b *testing.B) {
	ev := loadgen.Generate(loadgen.Mix{Provider: loadgen.Stripe}, 1, 1)[0]
	b.SetBytes(int64(len(ev.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.DecodeStripeEvent(ev.Body); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTwilio(b *testing.B) {
	ev := loadgen.Generate(loadgen.Mix{Provider: loadgen.Twilio}, 1, 1)[0]
	_, sig := loadgen.Signer{Provider: loadgen.Twilio, TwilioToken: "benchtoken", URL: benchURL}.Sign(&ev, time.Time{})
	req := verify.TwilioRequest{URL: benchURL, Signature: sig, ContentType: ev.ContentType, Body: ev.Body}
	b.SetBytes(int64(len(ev.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.Twilio(req, []string{"benchtoken"}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseTwilioForm(b *testing.B) {
	ev := loadgen.Generate(loadgen.Mix{Provider: loadgen.Twilio}, 1, 1)[0]
	b.ReportAllocs()
	for b.Loop() {
		if _, err := verify.ParseTwilioForm(ev.Body); err != nil {
			b.Fatal(err)
		}
	}
}
