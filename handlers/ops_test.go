package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/verify"
)

func signFor(u string, form map[string][]string) string {
	return verify.SignTwilio(twilioToken, u, form)
}

// brokenQueue never takes a task.
type brokenQueue struct{}

func (brokenQueue) Enqueue(context.Context, string, *asynq.Task, ...string) (bool, error) {
	return false, errors.New("connection refused")
}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return do(t, req)
}

func TestQueueFailureIs503(t *testing.T) {
	f := newFixture(t, func(_ *handlers.Config, d *handlers.Deps) { d.Queue = brokenQueue{} })
	body := stripeEvent("evt_1", "payment_intent.succeeded")
	if code, b := f.postStripe(t, body, verify.SignStripe(body, stripeSecret, f.now)); code != http.StatusServiceUnavailable {
		t.Errorf("stripe: got %d %s, want 503", code, b)
	}
	if code, b := f.postTwilio(t, handlers.TwilioPath, twilioForm("SM1", "sent"), true, nil); code != http.StatusServiceUnavailable {
		t.Errorf("twilio: got %d %s, want 503", code, b)
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	dbDown := false
	f := newFixture(t, func(_ *handlers.Config, d *handlers.Deps) {
		d.DB = handlers.PingerFunc(func(context.Context) error {
			if dbDown {
				return errors.New("connection refused")
			}
			return nil
		})
	})
	if code, _ := get(t, f.srv.URL+"/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d", code)
	}
	if code, body := get(t, f.srv.URL+"/readyz"); code != http.StatusOK {
		t.Errorf("/readyz = %d %s", code, body)
	}
	dbDown = true
	code, body := get(t, f.srv.URL+"/readyz")
	if code != http.StatusServiceUnavailable || jsonField(t, body, "down") != "database" {
		t.Errorf("/readyz with the database down = %d %s", code, body)
	}
	form := twilioForm("SM1", "sent")
	f.postTwilio(t, handlers.TwilioPath, form, true, nil)
	f.postTwilio(t, handlers.TwilioPath, form, false, nil)
	_, m := get(t, f.srv.URL+"/metrics")
	for _, want := range []string{
		`gateway_webhooks_total{outcome="accepted",provider="twilio"} 1`,
		`gateway_webhooks_total{outcome="invalid_signature",provider="twilio"} 1`,
		`gateway_webhooks_total{outcome="unavailable",provider="stripe"} 0`,
		`gateway_webhook_ingest_seconds_count{provider="twilio"} 2`,
		`gateway_http_requests_total{code="200",method="GET",route="/healthz"} 1`,
	} {
		if !strings.Contains(m, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestUnknownRouteIsJSON404(t *testing.T) {
	f := newFixture(t)
	code, body := get(t, f.srv.URL+"/nope")
	if code != http.StatusNotFound || jsonField(t, body, "error") == nil {
		t.Errorf("got %d %s", code, body)
	}
}

var _ = time.Second
