// Package redistest gives tests a real Redis: a database number of their
// own on the server named by TEST_REDIS_URL or REDIS_URL, else
// redis://127.0.0.1:6379, flushed before and after the test.
package redistest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reserveeasy/gateway/queue"
)

// Database numbers, one per test package, so packages tested in parallel
// never share Asynq's keys.
const (
	DBQueue    = 1
	DBHandlers = 2
	DBJobs     = 3
	DBCommand  = 4
	DBEndToEnd = 5
	DBOutage   = 6
	DBMetrics  = 7
)

// ServerURL is the Redis server tests use.
func ServerURL() string {
	for _, k := range []string{"TEST_REDIS_URL", "REDIS_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "redis://127.0.0.1:6379"
}

// URL returns the URL of database db on the test server, flushed now and
// at the end of the test. It fails the test when Redis does not answer.
func URL(tb testing.TB, db int) string {
	tb.Helper()
	u, err := url.Parse(ServerURL())
	if err != nil {
		tb.Fatalf("parse test redis url: %v", err)
	}
	u.Path = fmt.Sprintf("/%d", db)
	raw := u.String()
	flush(tb, raw)
	tb.Cleanup(func() { flush(tb, raw) })
	return raw
}

// Open connects to database db on the test server (see URL).
func Open(tb testing.TB, db int) *queue.Redis {
	tb.Helper()
	raw := URL(tb, db)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	r, err := queue.Open(ctx, raw)
	if err != nil {
		tb.Fatalf("open redis %s: %v", redact(raw), err)
	}
	tb.Cleanup(func() { r.Close() })
	return r
}

func flush(tb testing.TB, raw string) {
	tb.Helper()
	opt, err := redis.ParseURL(raw)
	if err != nil {
		tb.Fatalf("parse redis url: %v", err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.FlushDB(ctx).Err(); err != nil {
		tb.Fatalf("redis at %s does not answer (run `make test`, which starts one, or set TEST_REDIS_URL): %v", redact(raw), err)
	}
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return strings.TrimPrefix(u.Redacted(), "")
	}
	return "(unparsable)"
}
