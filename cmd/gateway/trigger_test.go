package main

import (
	"context"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/queue/redistest"
)

// tool runs one command of the binary with env and returns its output and
// error.
func tool(env map[string]string, args ...string) (string, error) {
	var out outputBuffer
	err := run(context.Background(), args, gatewayEnv(env), &out, &out)
	return out.String(), err
}

// TestTriggerAndBookingsCreate is the newcomer's path: create a booking,
// trigger a payment and SMS statuses for it, see each change.
func TestTriggerAndBookingsCreate(t *testing.T) {
	env := map[string]string{
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t),
		"STRIPE_WEBHOOK_SECRET": "whsec_trigger_test", "TWILIO_AUTH_TOKEN": "trigger_token",
	}
	g := startGateway(t, []string{"serve"}, env)
	target := []string{"--url", g.url}
	out, err := tool(env, "bookings", "create", "--name", "Ada Lovelace", "--phone", "+15551230001", "--email", "ada@example.com", "--deposit", "6000", "--currency", "usd")
	if err != nil {
		t.Fatalf("bookings create: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`booking (\d+) created: #\d+ payment_pending, deposit \$60\.00`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("bookings create printed %q", out)
	}
	id := m[1]
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"trigger", "payment_intent.succeeded", "--booking", id}, "confirmed, deposit $60.00 paid=true"},
		{[]string{"trigger", "sms", "--booking", id, "--status", "undelivered"}, "sms undelivered delivered=false"},
		{[]string{"trigger", "charge.refunded", "--booking", id}, "refunded=true"},
	}
	for _, s := range steps {
		out, err := tool(env, append(s.args, target...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", s.args, err, out)
		}
		if !strings.Contains(out, "answer 200") || !strings.Contains(out, s.want) {
			t.Errorf("%v printed:\n%s\nwant answer 200 and %q", s.args, out, s.want)
		}
	}
}

// TestTriggerAndDemoNameTheSettingThatDiffers: signed with other secrets
// than the gateway's, trigger and demo stop at the refusal, name the
// setting, and demo creates nothing.
func TestTriggerAndDemoNameTheSettingThatDiffers(t *testing.T) {
	env := map[string]string{
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t),
		"STRIPE_WEBHOOK_SECRET": "whsec_gateway_side", "TWILIO_AUTH_TOKEN": "gateway_token",
	}
	g := startGateway(t, []string{"serve"}, env)
	out, err := tool(env, "bookings", "create", "--name", "Grace Hopper", "--phone", "+15551230002", "--email", "grace@example.com")
	if err != nil {
		t.Fatalf("bookings create: %v\n%s", err, out)
	}
	other := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range env {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"trigger, other Stripe secret", other("STRIPE_WEBHOOK_SECRET", "whsec_other"), []string{"trigger", "payment_intent.succeeded", "--booking", "1"}, "STRIPE_WEBHOOK_SECRET"},
		{"trigger, other Twilio token", other("TWILIO_AUTH_TOKEN", "other"), []string{"trigger", "sms", "--booking", "1"}, "TWILIO_AUTH_TOKEN"},
		{"trigger, other public URL", other("PUBLIC_BASE_URL", "https://tunnel.example"), []string{"trigger", "sms", "--booking", "1"}, "PUBLIC_BASE_URL"},
		{"demo, other Stripe secret", other("STRIPE_WEBHOOK_SECRET", "whsec_other"), []string{"demo"}, "STRIPE_WEBHOOK_SECRET"},
		{"demo, other Twilio token", other("TWILIO_AUTH_TOKEN", "other"), []string{"demo"}, "TWILIO_AUTH_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := tool(tt.env, append(tt.args, "--url", g.url)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%v = %v, want an error naming %s\n%s", tt.args, err, tt.want, out)
			}
			if strings.Contains(out, "did not show within") {
				t.Errorf("it went on after the refusal:\n%s", out)
			}
		})
	}
	s, err := openStore(context.Background(), env["DATABASE_URL"], false, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Booking(context.Background(), 2); !errors.Is(err, bookings.ErrNotFound) {
		t.Errorf("a refused demo left a booking behind (booking 2: %v)", err)
	}
	if b, _ := s.Booking(context.Background(), 1); b.DepositPaid {
		t.Error("a refused trigger changed the booking")
	}
}

func TestTriggerAndBookingsRefuseBadArguments(t *testing.T) {
	env := map[string]string{"DATABASE_URL": sqliteURL(t), "STRIPE_WEBHOOK_SECRET": "whsec_x", "TWILIO_AUTH_TOKEN": "x"}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"trigger", "customer.created", "--booking", "1"}, `TYPE "customer.created" is not one of`},
		{[]string{"trigger", "sms"}, "--booking ID is required"},
		{[]string{"trigger", "sms", "--booking", "1", "--status", "lost"}, `--status "lost" is not one of`},
		{[]string{"trigger", "charge.refunded", "--booking", "1", "--amount", "-5"}, "--amount -5 is negative"},
		{[]string{"trigger", "payment_intent.succeeded", "--booking", "99", "--url", "http://" + freeAddr(t)}, "booking 99 not found"},
		{[]string{"bookings", "create", "--name", "X", "--phone", "555", "--email", "nope"}, "--phone must be in E.164"},
		{[]string{"bookings", "create", "--name", "X", "--phone", "+15551230003", "--email", "x@example.com", "--currency", "USD"}, "--currency must be"},
		{[]string{"bookings", "list"}, "usage: gateway bookings create"},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(strings.Join(tt.args, " ")), func(t *testing.T) {
			out, err := tool(env, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("%v = %v, want an error with %q\n%s", tt.args, err, tt.want, out)
			}
		})
	}
}
