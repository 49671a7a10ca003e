package main

import (
	"context"
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/queue/redistest"
)

// TestInspectUnknownIDFails: inspect of an id nothing is known about
// exits 1 (run returns an error), after saying so.
func TestInspectUnknownIDFails(t *testing.T) {
	env := map[string]string{"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t)}
	for _, id := range []string{"evt_nothing", "SMnothing", "SMnothing:delivered"} {
		var out outputBuffer
		err := run(context.Background(), []string{"inspect", id}, gatewayEnv(env), &out, &out)
		if err == nil || !strings.Contains(err.Error(), "nothing known about") {
			t.Errorf("inspect %s: err = %v, want nothing known\n%s", id, err, out.String())
		}
	}
}

// TestEventsValidatesFilters: a filter that can only match nothing by
// mistake is refused, naming the flag; good ones are accepted.
func TestEventsValidatesFilters(t *testing.T) {
	env := map[string]string{"DATABASE_URL": sqliteURL(t), "REDIS_URL": redistest.URL(t, redistest.DBCommand)}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--source", "paypal"}, `--source "paypal": want stripe or twilio`},
		{[]string{"--source", "Stripe"}, `--source "Stripe"`},
		{[]string{"--type", "payment intent"}, `--type "payment intent"`},
		{[]string{"--booking", "-3"}, "--booking -3"},
		{[]string{"--limit", "0"}, "--limit 0: want 1 to 1000"},
		{[]string{"--limit", "100000"}, "--limit 100000"},
		{[]string{"stripe"}, `unexpected argument "stripe"`},
		{[]string{"--applied", "stripe"}, `unexpected argument "stripe"`},
		{[]string{"--outcome", "rejected"}, `--outcome "rejected": want one of`},
		{[]string{"--provider", "paypal"}, `--provider "paypal": want stripe or twilio`},
		{[]string{"--since", "-1h"}, `--since "-1h"`},
	} {
		var out outputBuffer
		err := run(context.Background(), append([]string{"events"}, tt.args...), gatewayEnv(env), &out, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("events %v: err = %v, want %q", tt.args, err, tt.want)
		}
	}
	for _, args := range [][]string{
		{"--source", "stripe", "--type", "payment_intent.succeeded", "--booking", "4", "--limit", "10"},
		{"--source", "twilio", "--type", "sms.delivered"},
		{"--applied"},
		{"--outcome", "ignored", "--provider", "stripe", "--since", "2025-03-01T18:00:00Z"},
		{},
	} {
		var out outputBuffer
		if err := run(context.Background(), append([]string{"events"}, args...), gatewayEnv(env), &out, &out); err != nil {
			t.Errorf("events %v: %v\n%s", args, err, out.String())
		}
	}
}
