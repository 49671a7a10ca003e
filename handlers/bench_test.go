package handlers_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/loadgen"
	"github.com/reserveeasy/gateway/verify"
)

// The hot path is compared with a bare Echo handler that only reads the body
// and answers, on the same machine in the same run: compare the ratio, not
// the absolute numbers (go test -bench . -run '^$' ./handlers).

func BenchmarkBareEcho(b *testing.B) {
	e := echo.New()
	e.POST(handlers.StripePath, func(c echo.Context) error {
		if _, err := io.ReadAll(c.Request().Body); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, map[string]bool{"received": true})
	})
	body := stripeEvent("evt_bare", "payment_intent.succeeded")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		serve(b, e, body, "")
	}
}

func BenchmarkStripeAccepted(b *testing.B) {
	benchStripe(b, func(i int) string { return fmt.Sprintf("evt_bench_%d", i) })
}

func BenchmarkStripeDuplicate(b *testing.B) {
	benchStripe(b, func(int) string { return "evt_bench_dup" })
}

func benchStripe(b *testing.B, id func(i int) string) {
	f := newFixture(b)
	h := f.handler
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		body := stripeEvent(id(i), "payment_intent.succeeded")
		sig := verify.SignStripe(body, stripeSecret, f.now)
		b.StartTimer()
		serve(b, h, body, sig)
	}
}

func serve(b *testing.B, h http.Handler, body []byte, sig string) {
	req := httptest.NewRequest(http.MethodPost, handlers.StripePath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
}

// BenchmarkStripeAcceptedParallel is a burst: many senders at once, each
// event new. Redis round trips overlap, so throughput exceeds 1/latency.
func BenchmarkStripeAcceptedParallel(b *testing.B) {
	f := newFixture(b)
	var n atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			body := stripeEvent(fmt.Sprintf("evt_par_%d", n.Add(1)), "payment_intent.succeeded")
			serve(b, f.handler, body, verify.SignStripe(body, stripeSecret, f.now))
		}
	})
}

// BenchmarkStripeRealistic is the load generator's 3 KB payment_intent
// event (make bench posts the same), each one new.
func BenchmarkStripeRealistic(b *testing.B) {
	f := newFixture(b)
	events := loadgen.Generate(loadgen.Mix{Provider: loadgen.Stripe, Seed: uint64(time.Now().UnixNano())}, b.N, 1)
	s := loadgen.Signer{Provider: loadgen.Stripe, StripeSecret: stripeSecret}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		_, sig := s.Sign(&events[i], f.now)
		serve(b, f.handler, events[i].Body, sig)
	}
}

// BenchmarkTwilioRealistic is the load generator's status callback, each
// one new.
func BenchmarkTwilioRealistic(b *testing.B) {
	f := newFixture(b)
	events := loadgen.Generate(loadgen.Mix{Provider: loadgen.Twilio, Seed: uint64(time.Now().UnixNano())}, b.N, 1)
	s := loadgen.Signer{Provider: loadgen.Twilio, TwilioToken: twilioToken, URL: publicBase + handlers.TwilioPath}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		ev := &events[i]
		_, sig := s.Sign(ev, f.now)
		req := httptest.NewRequest(http.MethodPost, handlers.TwilioPath, bytes.NewReader(ev.Body))
		req.Header.Set("Content-Type", ev.ContentType)
		req.Header.Set("X-Twilio-Signature", sig)
		req.Header.Set("I-Twilio-Idempotency-Token", ev.Key)
		rec := httptest.NewRecorder()
		f.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
}
