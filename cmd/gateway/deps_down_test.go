package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/verify"
)

// TestStartsWhileDependenciesAreDown: with Redis and PostgreSQL down the
// gateway still starts, is alive, reports both in /readyz and answers
// webhooks 503 so that senders retry.
func TestStartsWhileDependenciesAreDown(t *testing.T) {
	const secret = "whsec_down"
	g := startGateway(t, []string{"serve"}, map[string]string{
		"REDIS_URL":             "redis://" + freeAddr(t) + "/0",
		"DATABASE_URL":          "postgres://postgres@" + freeAddr(t) + "/test?sslmode=disable&connect_timeout=1",
		"STRIPE_WEBHOOK_SECRET": secret,
	})
	if code, _ := g.get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz = %d, want 200", code)
	}
	code, body := g.get("/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, `"down":"redis,database"`) {
		t.Errorf("/readyz = %d %s, want 503 naming redis and database", code, body)
	}
	ev := `{"id":"evt_down","object":"event","type":"payment_intent.succeeded","data":{"object":{"id":"pi_1"}}}`
	hdr := http.Header{"Stripe-Signature": {verify.SignStripe([]byte(ev), secret, time.Now())}}
	if code, body := g.do(http.MethodPost, handlers.StripePath, "application/json", hdr, ev); code != http.StatusServiceUnavailable {
		t.Errorf("webhook = %d %s, want 503", code, body)
	}
	if !strings.Contains(g.stderr.String(), "database not migrated yet") {
		t.Errorf("no log line says the database is not migrated:\n%s", g.stderr)
	}
}
