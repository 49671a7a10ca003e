package main

import (
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/queue/redistest"
)

// TestDemoEventsInspect is the README's quick start: a gateway, `gateway
// demo` against it, then `gateway events` and `gateway inspect` show what
// happened.
func TestDemoEventsInspect(t *testing.T) {
	env := map[string]string{
		"REDIS_URL":             redistest.URL(t, redistest.DBCommand),
		"DATABASE_URL":          "sqlite:" + filepath.Join(t.TempDir(), "gw.db"),
		"STRIPE_WEBHOOK_SECRET": "whsec_demo_test",
		"TWILIO_AUTH_TOKEN":     "demo_test_token",
	}
	g := startGateway(t, []string{"serve"}, env)
	tool := func(args ...string) string {
		t.Helper()
		var out outputBuffer
		if err := run(context.Background(), args, gatewayEnv(env), &out, &out); err != nil {
			t.Fatalf("gateway %v: %v\n%s", args, err, out.String())
		}
		return out.String()
	}
	demo := tool("demo", "--url", g.url)
	for _, want := range []string{
		`answer: 200 {"received":true}`,
		`answer: 200 {"status":"received"}`,
		"confirmed, deposit $60.00 paid=true refunded=false",
		"sms delivered delivered=true",
		"paid=true refunded=true",
		"sms undelivered delivered=false",
		"payment_pending, deposit $60.00 paid=false",
	} {
		if !strings.Contains(demo, want) {
			t.Errorf("demo output lacks %q:\n%s", want, demo)
		}
	}
	if strings.Contains(demo, "did not show within") {
		t.Errorf("a demo step did not take effect:\n%s", demo)
	}
	events := tool("events", "--source", "stripe")
	if n := strings.Count(events, "evt_demo_"); n != 3 {
		t.Errorf("events lists %d stripe events, want 3:\n%s", n, events)
	}
	id := regexp.MustCompile(`evt_demo_[0-9a-f]{8}a\b`).FindString(events)
	inspect := tool("inspect", id)
	for _, want := range []string{
		"task:      stripe:payment_succeeded stripe:" + id + " in queue webhooks: completed",
		"outcome paid",
		"money:     payment $60.00",
		"message:   sms booking_confirmation_sms to +1******",
	} {
		if !strings.Contains(inspect, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, inspect)
		}
	}
	// A MessageSid shows every status callback of that message.
	twilio := tool("events", "--source", "twilio")
	sid := regexp.MustCompile(`\b(SM\w+):undelivered\b`).FindStringSubmatch(twilio)
	if sid == nil {
		t.Fatalf("events lists no undelivered SMS:\n%s", twilio)
	}
	inspect = tool("inspect", sid[1])
	for _, want := range []string{
		"task:      twilio:sms_status twilio:" + sid[1] + ":undelivered in queue webhooks: completed",
		"applied:   twilio " + sid[1] + ":undelivered sms.undelivered",
		"outcome sms_failed",
		"message:   email booking_confirmation_email to ",
		"message:   email support_alert to ",
	} {
		if !strings.Contains(inspect, want) {
			t.Errorf("inspect %s output lacks %q:\n%s", sid[1], want, inspect)
		}
	}
}
