package queue_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
)

var safeRedis = []string{"--appendonly", "yes", "--appendfsync", "always", "--maxmemory-policy", "noeviction"}

// TestCheckDurability: each setting that can lose an event answered 200
// yields one warning naming it; safe settings yield none; a server that
// refuses CONFIG is skipped quietly.
func TestCheckDurability(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want []string // one substring per warning, in order
	}{
		{"no persistence, evicting", []string{"--appendonly", "no", "--maxmemory-policy", "allkeys-lru"},
			[]string{"appendonly is no", "maxmemory-policy is allkeys-lru"}},
		{"fsync every second", []string{"--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"},
			[]string{"appendfsync is everysec"}},
		{"fsync left to the OS", []string{"--appendonly", "yes", "--appendfsync", "no", "--maxmemory-policy", "noeviction"},
			[]string{"appendfsync is no"}},
		{"safe", safeRedis, nil},
		{"config refused", []string{"--appendonly", "no", "--rename-command", "CONFIG", ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := redistest.StartServer(t, tt.args...)
			checkDurability(t, s, 0, tt.want)
		})
	}
}

// TestCheckDurabilityReplicas: replicas without REDIS_MIN_REPLICAS can lose
// events at a failover; more required than connected means 503s.
func TestCheckDurabilityReplicas(t *testing.T) {
	primary := redistest.StartServer(t, safeRedis...)
	redistest.StartReplica(t, primary, safeRedis...)
	for _, tt := range []struct {
		min  int
		want []string
	}{
		{0, []string{"1 connected replica(s) but REDIS_MIN_REPLICAS is 0"}},
		{1, nil},
		{2, []string{"REDIS_MIN_REPLICAS is 2 but Redis has 1 connected replica(s)"}},
	} {
		checkDurability(t, primary, tt.min, tt.want)
	}
}

func checkDurability(t *testing.T, s *redistest.Server, minReplicas int, want []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := queue.Open(ctx, s.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.CheckDurability(ctx, minReplicas)
	if err != nil {
		t.Fatalf("CheckDurability: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("REDIS_MIN_REPLICAS=%d: warnings:\n%s\nwant %d: %q", minReplicas, strings.Join(got, "\n"), len(want), want)
	}
	for i, w := range want {
		if !strings.Contains(got[i], w) {
			t.Errorf("warning %d = %q, want it to contain %q", i, got[i], w)
		}
	}
}

// TestCheckDurabilityEmbedded: the embedded Redis is not checked.
func TestCheckDurabilityEmbedded(t *testing.T) {
	got, err := openEmbedded(t).CheckDurability(context.Background(), 0)
	if err != nil || len(got) != 0 {
		t.Errorf("CheckDurability on the embedded Redis = %q, %v; want nothing", got, err)
	}
}
