package main

import (
	"context"
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/queue/redistest"
)

// TestMinReplicasRefusesTheEmbeddedRedis: the embedded Redis has no
// replicas, so REDIS_MIN_REPLICAS>0 without REDIS_URL stops the start with
// one line naming the setting.
func TestMinReplicasRefusesTheEmbeddedRedis(t *testing.T) {
	embeddedDefaults(t)
	var out outputBuffer
	env := gatewayEnv(map[string]string{"DATABASE_URL": sqliteURL(t), "REDIS_MIN_REPLICAS": "1"})
	err := run(context.Background(), []string{"serve"}, env, &out, &out)
	if err == nil {
		t.Fatal("gateway serve started on the embedded Redis with REDIS_MIN_REPLICAS=1")
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "REDIS_MIN_REPLICAS") || strings.Contains(msg, "\n") {
		t.Errorf("error = %q, want one line starting with REDIS_MIN_REPLICAS", msg)
	}
}

// TestStartWarnsAboutRedisDurability: a Redis that can lose events
// answered 200 is named at start, one warning per setting.
func TestStartWarnsAboutRedisDurability(t *testing.T) {
	s := redistest.StartServer(t, "--appendonly", "no", "--maxmemory-policy", "allkeys-lru")
	g := startGateway(t, []string{"api"}, map[string]string{
		"REDIS_URL":             s.URL(),
		"DATABASE_URL":          sqliteURL(t),
		"STRIPE_WEBHOOK_SECRET": "whsec_durability_test",
		"TWILIO_AUTH_TOKEN":     "durability_test_token",
	})
	logs := g.stderr.String()
	for _, want := range []string{"Redis appendonly is no", "Redis maxmemory-policy is allkeys-lru"} {
		if n := strings.Count(logs, want); n != 1 {
			t.Errorf("start logs carry %q %d times, want once:\n%s", want, n, logs)
		}
	}
}
