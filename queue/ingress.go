package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// ErrUnavailable means Redis could not take the task: answer 503 so the
// sender retries.
var ErrUnavailable = errors.New("queue unavailable")

// The gateway's own keys in Redis (Asynq's start with asynq:).
const (
	// seenPrefix prefixes the keys of events the workers have applied.
	seenPrefix = "gateway:seen:"
	// leasePrefix prefixes the keys of leases (see Lease).
	leasePrefix = "gateway:lease:"
	// receiptPrefix prefixes the keys of provider receipts not yet
	// recorded in the database (see Receipts), by notification id.
	receiptPrefix = "gateway:receipt:"
)

// Ingress puts webhook tasks on the queue, once per event.
//
// An event is a duplicate when a worker has already applied it (a
// gateway:seen: key, written by MarkSeen after the worker's commit and kept
// DedupeTTL) or when its task is still in Redis (queued, running, retrying,
// archived or recently completed: Asynq's task id refuses a second copy).
// Nothing is marked seen before the task is safely in Redis, so a failed
// enqueue or a crash between steps never makes a retry look like a
// duplicate. Accepting an event costs two round trips: EXISTS and Asynq's
// enqueue script.
type Ingress struct {
	rdb       redis.UniversalClient
	client    *asynq.Client
	retention time.Duration
}

// NewIngress returns an Ingress over r's fast client. Completed tasks are
// kept in Redis for retention (visible in the web UI, and a second guard).
func NewIngress(r *Redis, retention time.Duration) *Ingress {
	return &Ingress{rdb: r.Client, client: asynq.NewClientFromRedisClient(r.Client), retention: retention}
}

// Enqueue queues task under id unless the event was seen. It reports
// whether the task is a duplicate. Errors wrap ErrUnavailable.
func (in *Ingress) Enqueue(ctx context.Context, id string, task *asynq.Task) (duplicate bool, err error) {
	n, err := in.rdb.Exists(ctx, seenPrefix+id).Result()
	if err != nil {
		return false, fmt.Errorf("check %s: %w: %w", id, ErrUnavailable, err)
	}
	if n > 0 {
		return true, nil
	}
	_, err = in.client.EnqueueContext(ctx, task, asynq.TaskID(id), asynq.Retention(in.retention))
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("enqueue %s: %w: %w", id, ErrUnavailable, err)
	}
	return false, nil
}

// Seen remembers applied events so that later copies are dropped at the door.
type Seen struct {
	rdb redis.UniversalClient
	ttl time.Duration
}

// NewSeen returns a Seen that remembers ids for ttl.
func NewSeen(r *Redis, ttl time.Duration) *Seen { return &Seen{rdb: r.Client, ttl: ttl} }

// MarkSeen records that the event with task id was applied.
func (s *Seen) MarkSeen(ctx context.Context, id string) error {
	if err := s.rdb.Set(ctx, seenPrefix+id, 1, s.ttl).Err(); err != nil {
		return fmt.Errorf("mark %s seen: %w", id, err)
	}
	return nil
}
