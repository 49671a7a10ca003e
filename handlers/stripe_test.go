package handlers_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/tasks"
	"github.com/reserveeasy/gateway/verify"
)

// sign signs with stripe-go's own test helper.
func sign(t *testing.T, body []byte, secret string, at time.Time) string {
	t.Helper()
	return webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: body, Secret: secret, Timestamp: at}).Header
}

func TestStripeStatuses(t *testing.T) {
	f := newFixture(t)
	good := stripeEvent("evt_good", "payment_intent.succeeded")
	big := append(stripeEvent("evt_big", "payment_intent.succeeded"), bytes.Repeat([]byte(" "), 5000)...)
	tests := []struct {
		name     string
		body     []byte
		sig      string
		wantCode int
		wantBody string
	}{
		{"accepted", good, sign(t, good, stripeSecret, f.now), 200, `{"received":true}`},
		{"duplicate", good, sign(t, good, stripeSecret, f.now), 200, `{"received":true}`},
		{"old secret during rotation", stripeEvent("evt_rot", "charge.refunded"), sign(t, stripeEvent("evt_rot", "charge.refunded"), "whsec_old", f.now), 200, `{"received":true}`},
		{"unhandled type", stripeEvent("evt_cust", "customer.created"), sign(t, stripeEvent("evt_cust", "customer.created"), stripeSecret, f.now), 200, `{"received":true}`},
		{"missing signature", good, "", 400, `{"error":"missing or unverifiable signature"}`},
		{"wrong secret", good, sign(t, good, "whsec_wrong", f.now), 400, `{"error":"invalid signature"}`},
		{"tampered body", []byte(strings.Replace(string(good), "6000", "1", 1)), sign(t, good, stripeSecret, f.now), 400, `{"error":"invalid signature"}`},
		{"expired", good, sign(t, good, stripeSecret, f.now.Add(-10*time.Minute)), 400, `{"error":"signature timestamp outside tolerance"}`},
		{"malformed json", []byte(`{"id":`), sign(t, []byte(`{"id":`), stripeSecret, f.now), 400, ``},
		{"too large", big, sign(t, big, stripeSecret, f.now), 413, `{"error":"body too large"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.postStripe(t, tt.body, tt.sig)
			if code != tt.wantCode {
				t.Fatalf("status = %d (%s), want %d", code, body, tt.wantCode)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("body = %s, want %s", body, tt.wantBody)
			}
			if strings.Contains(body, stripeSecret) || strings.Contains(body, "v1=") {
				t.Errorf("body leaks a secret or signature: %s", body)
			}
		})
	}
	ts := f.tasks(t)
	var ids []string
	for _, ti := range ts {
		ids = append(ids, ti.ID)
	}
	if diff := cmp.Diff([]string{"stripe:evt_good", "stripe:evt_rot"}, sortStrings(ids)); diff != "" {
		t.Errorf("queued tasks (-want +got):\n%s", diff)
	}
	for _, ti := range ts {
		if ti.ID != "stripe:evt_good" {
			continue
		}
		var ev tasks.StripeEvent
		if err := json.Unmarshal(ti.Payload, &ev); err != nil {
			t.Fatal(err)
		}
		if ti.Type != tasks.TypePaymentSucceeded || ev.Object.BookingID() != 42 || ev.Object.Amount != 6000 || len(ev.Raw) == 0 {
			t.Errorf("task %s payload = %+v", ti.Type, ev)
		}
	}
	if !strings.Contains(f.logs.String(), "ignoring unhandled Stripe event type") {
		t.Error("no warning logged for the unhandled event type")
	}
	if strings.Contains(f.logs.String(), stripeSecret) {
		t.Error("logs contain the webhook secret")
	}
}

func TestStripeNoSecretRejectsAndLogs(t *testing.T) {
	f := newFixture(t, func(c *handlers.Config, _ *handlers.Deps) { c.StripeSecrets = nil })
	body := stripeEvent("evt_1", "payment_intent.succeeded")
	if code, _ := f.postStripe(t, body, sign(t, body, stripeSecret, f.now)); code != http.StatusBadRequest {
		t.Fatalf("status = %d, want 400", code)
	}
	if !strings.Contains(f.logs.String(), "STRIPE_WEBHOOK_SECRET is not set") {
		t.Errorf("log does not name the missing setting:\n%s", f.logs)
	}
}

func TestStripeConcurrentCopiesQueueOnce(t *testing.T) {
	f := newFixture(t)
	body := stripeEvent("evt_burst", "payment_intent.succeeded")
	sig := verify.SignStripe(body, stripeSecret, f.now)
	var wg sync.WaitGroup
	codes := make(chan int, 50)
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _ := f.postStripe(t, body, sig)
			codes <- code
		}()
	}
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusOK {
			t.Errorf("status = %d, want 200", c)
		}
	}
	if n := len(f.tasks(t)); n != 1 {
		t.Errorf("tasks = %d, want exactly 1", n)
	}
}

// TestBodiesAreExact: the answers are the documented bytes, with no
// trailing newline, for senders and tests that compare them exactly.
func TestBodiesAreExact(t *testing.T) {
	f := newFixture(t)
	body := stripeEvent("evt_exact", "payment_intent.succeeded")
	req := httptest.NewRequest(http.MethodPost, handlers.StripePath, bytes.NewReader(body))
	req.Header.Set("Stripe-Signature", verify.SignStripe(body, stripeSecret, f.now))
	rec := httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if got := rec.Body.String(); got != `{"received":true}` || rec.Header().Get("Content-Type") != "application/json" {
		t.Errorf("body %q, content type %q", got, rec.Header().Get("Content-Type"))
	}
	form := twilioForm("SMexact", "sent")
	req = httptest.NewRequest(http.MethodPost, publicBase+handlers.TwilioPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", verify.SignTwilio(twilioToken, publicBase+handlers.TwilioPath, form))
	rec = httptest.NewRecorder()
	f.handler.ServeHTTP(rec, req)
	if got := rec.Body.String(); got != `{"status":"received"}` {
		t.Errorf("twilio body %q", got)
	}
}

// TestStripeLivemode: with STRIPE_LIVEMODE set, an event of the other mode
// gets 200 and outcome ignored, and nothing is queued; unset, both modes
// are queued.
func TestStripeLivemode(t *testing.T) {
	live, test := true, false
	event := func(id string, livemode bool) []byte {
		return bytes.Replace(stripeEvent(id, "payment_intent.succeeded"), []byte(`"created":1700000000,`),
			[]byte(fmt.Sprintf(`"created":1700000000,"livemode":%v,`, livemode)), 1)
	}
	tests := []struct {
		name       string
		mode       *bool
		wantQueued []string
	}{
		{"unset applies both", nil, []string{"stripe:evt_live", "stripe:evt_test"}},
		{"live only", &live, []string{"stripe:evt_live"}},
		{"test only", &test, []string{"stripe:evt_test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *handlers.Config, _ *handlers.Deps) { c.StripeLivemode = tt.mode })
			for _, b := range [][]byte{event("evt_live", true), event("evt_test", false)} {
				if code, body := f.postStripe(t, b, sign(t, b, stripeSecret, f.now)); code != http.StatusOK || body != `{"received":true}` {
					t.Fatalf("status = %d %s, want 200", code, body)
				}
			}
			var ids []string
			for _, ti := range f.tasks(t) {
				ids = append(ids, ti.ID)
			}
			if diff := cmp.Diff(tt.wantQueued, sortStrings(ids)); diff != "" {
				t.Errorf("queued (-want +got):\n%s", diff)
			}
			ignored := testutil.ToFloat64(f.metrics.Webhooks.WithLabelValues("stripe", "ignored"))
			if want := float64(2 - len(tt.wantQueued)); ignored != want {
				t.Errorf("outcome ignored = %v, want %v", ignored, want)
			}
			if tt.mode != nil && !strings.Contains(f.logs.String(), "STRIPE_LIVEMODE") {
				t.Errorf("no warning naming STRIPE_LIVEMODE:\n%s", f.logs)
			}
		})
	}
}
