package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// The embedded Redis of `gateway serve` (make run) holds every queued
// webhook task: whoever can write to it applies events without any
// signature (a forged stripe:payment_succeeded confirms an unpaid booking)
// and reads the payloads the ops UI masks. It listens on 127.0.0.1, which
// every local user (and every container sharing the host network) reaches,
// so it must refuse a client that does not present a generated password.
func TestEmbeddedRedisRefusesUnauthenticatedClients(t *testing.T) {
	r := openEmbedded(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := r.Ping(ctx); err != nil {
		t.Fatalf("the gateway's own client cannot reach its embedded Redis: %v", err)
	}
	stranger := redis.NewClient(&redis.Options{Addr: r.Embedded.Addr(), MaxRetries: -1})
	defer stranger.Close()
	if err := stranger.Ping(ctx).Err(); err == nil {
		t.Fatalf("a client without credentials got PONG from the embedded Redis at %s: any local user can enqueue tasks (e.g. a forged payment) and read unmasked payloads", r.Embedded.Addr())
	}
	if err := stranger.LPush(ctx, "asynq:{webhooks}:pending", "forged").Err(); err == nil {
		t.Fatal("a client without credentials could push onto the webhooks queue of the embedded Redis")
	}
}
