package queue

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reserveeasy/gateway/tasks"
)

// Lease is a short lease in Redis held by at most one process of the
// deployment at a time: the key gateway:lease:NAME holds the holder's id
// and expires after ttl unless the holder renews it. Run keeps it: it tries
// to take or renew the lease every ttl/3, so a live holder keeps it and a
// dead one loses it after at most ttl.
//
// Held is true only while this process's latest take or renewal is younger
// than ttl, measured from before the request left: the key in Redis never
// expires before that (on the embedded Redis, whose clock moves a second
// at a time, it may expire up to a second early; it runs in one process).
type Lease struct {
	rdb redis.UniversalClient
	key string
	id  string
	ttl time.Duration

	mu    sync.Mutex
	until time.Time // when Held turns false without a renewal
}

// takeScript renews the lease when this holder has it, else takes it when
// nobody does. It returns 1 when the caller holds the lease.
var takeScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
`)

// releaseScript deletes the lease when this holder has it.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// NewLease returns the lease called name, held for ttl at a time, over r's
// fast client. Every Lease has an id of its own.
func NewLease(r *Redis, name string, ttl time.Duration) *Lease {
	b := make([]byte, 8)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	host, _ := os.Hostname()
	return &Lease{rdb: r.Client, key: tasks.LeaseKey(name), id: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b)), ttl: ttl}
}

// Try takes the lease when it is free or renews it when this Lease holds
// it, and reports whether it holds it now. On an error Held stays as it
// was and turns false when the last renewal is ttl old.
func (l *Lease) Try(ctx context.Context) (bool, error) {
	start := time.Now()
	n, err := takeScript.Run(ctx, l.rdb, []string{l.key}, l.id, l.ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("take lease %s: %w", l.key, err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if n == 1 {
		l.until = start.Add(l.ttl)
		return true, nil
	}
	l.until = time.Time{}
	return false, nil
}

// Held reports whether this process holds the lease now.
func (l *Lease) Held() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return time.Now().Before(l.until)
}

// Release gives the lease up when this Lease holds it, so another process
// takes it at its next try instead of after ttl.
func (l *Lease) Release(ctx context.Context) error {
	l.mu.Lock()
	l.until = time.Time{}
	l.mu.Unlock()
	if err := releaseScript.Run(ctx, l.rdb, []string{l.key}, l.id).Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", l.key, err)
	}
	return nil
}

// Run tries to take or renew the lease now and every ttl/3 until ctx ends,
// then releases it. Errors (Redis away) are retried at the next tick.
func (l *Lease) Run(ctx context.Context) {
	every := l.ttl / 3
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		tctx, cancel := context.WithTimeout(ctx, every)
		_, _ = l.Try(tctx)
		cancel()
		select {
		case <-ctx.Done():
			rctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = l.Release(rctx)
			cancel()
			return
		case <-t.C:
		}
	}
}

// Hold runs fn while holding the lease: it takes the lease (false, nil
// without running fn when another process holds it), renews it every
// ttl/3 while fn runs, cancels fn's context if another process takes it
// over meanwhile, and releases it when fn returns. It makes a job run at
// most once at a time per deployment.
func (l *Lease) Hold(ctx context.Context, fn func(ctx context.Context) error) (bool, error) {
	ok, err := l.Try(ctx)
	if err != nil || !ok {
		return false, err
	}
	fctx, cancel := context.WithCancel(ctx)
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(l.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-fctx.Done():
				return
			case <-t.C:
			}
			if held, err := l.Try(fctx); err == nil && !held {
				cancel() // taken over: stop rather than run twice
				return
			}
		}
	}()
	err = fn(fctx)
	cancel()
	<-renewed
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer rcancel()
	if rerr := l.Release(rctx); rerr != nil && err == nil {
		err = rerr
	}
	return true, err
}
