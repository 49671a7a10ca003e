package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reserveeasy/gateway/tasks"
)

// ErrUnavailable means Redis could not take the task: answer 503 so the
// sender retries.
var ErrUnavailable = errors.New("queue unavailable")

// Ingress puts webhook tasks on the queue, once per event.
//
// An event is a duplicate when a worker has already applied it (a
// gateway:seen: key, written by MarkSeen after the worker's commit and kept
// DedupeTTL) or when its task is still in Redis (queued, running, retrying,
// archived or recently completed: Asynq's task id refuses a second copy).
// Nothing is marked seen before the task is safely in Redis, so a failed
// enqueue or a crash between steps never makes a retry look like a
// duplicate. Accepting an event costs two round trips: EXISTS and Asynq's
// enqueue script (and one more to mark its guards, when it has any).
//
// With RequireReplicas, an event is accepted only once that many replicas
// confirm its task (WAIT, pipelined after the enqueue on the same
// connection); a duplicate whose task is still queued is accepted only once
// they confirm everything written up to now, so a task queued by an earlier
// request answered 503 is not acknowledged before it is replicated.
type Ingress struct {
	rdb       redis.UniversalClient
	client    *asynq.Client
	retention time.Duration
	guardTTL  time.Duration
	embedded  bool
	// minReplicas is how many replicas must confirm a task; 0: no wait.
	minReplicas int
	// observe is told each wait's outcome (confirmed or not); may be nil.
	observe func(confirmed bool)
}

// NewIngress returns an Ingress over r's fast client. Completed tasks are
// kept in Redis for retention (visible in the web UI, and a second guard);
// the guards given to Enqueue are remembered for guardTTL (DEDUPE_TTL).
func NewIngress(r *Redis, retention, guardTTL time.Duration) *Ingress {
	return &Ingress{rdb: r.Client, client: asynq.NewClientFromRedisClient(r.Client), retention: retention,
		guardTTL: guardTTL, embedded: r.Embedded != nil}
}

// RequireReplicas makes Enqueue succeed only once n Redis replicas confirm
// the task (0: do not wait). observe, when not nil, is told whether each
// wait was confirmed. The embedded Redis has no replicas and no WAIT.
func (in *Ingress) RequireReplicas(n int, observe func(confirmed bool)) error {
	if n > 0 && in.embedded {
		return errors.New("REDIS_MIN_REPLICAS: the embedded Redis has no replicas (set REDIS_URL)")
	}
	in.minReplicas, in.observe = n, observe
	return nil
}

// Enqueue queues task under id unless the event was seen. It reports
// whether the task is a duplicate. Errors wrap ErrUnavailable.
//
// guards are further ids the event is known by that no signature covers
// (Twilio's I-Twilio-Idempotency-Token): the event is also a duplicate when
// one of them was seen, and once its task is in Redis they are marked seen.
// They only ever add duplicates: the task id, not a guard, is what makes an
// event exactly-once, so a fresh guard never lets a seen event in. Failing
// to mark them is not an error (the task is queued; its id still guards).
func (in *Ingress) Enqueue(ctx context.Context, id string, task *asynq.Task, guards ...string) (duplicate bool, err error) {
	seen, err := in.seen(ctx, append([]string{id}, guards...))
	if err != nil {
		return false, fmt.Errorf("check %s: %w: %w", id, ErrUnavailable, err)
	}
	if seen {
		return true, nil
	}
	var w *replicaWait
	wctx := ctx // the enqueue's context: it carries the replica wait, if any
	if in.minReplicas > 0 {
		w = &replicaWait{min: in.minReplicas}
		wctx = withReplicaWait(ctx, w)
	}
	_, err = in.client.EnqueueContext(wctx, task, asynq.TaskID(id), asynq.Retention(in.retention))
	switch {
	case errors.Is(err, asynq.ErrTaskIDConflict), errors.Is(err, asynq.ErrDuplicateTask):
		duplicate = true
	case err != nil:
		return false, fmt.Errorf("enqueue %s: %w: %w", id, ErrUnavailable, err)
	}
	if w != nil {
		if err := in.confirmed(w); err != nil {
			return false, fmt.Errorf("enqueue %s: %w", id, err)
		}
	}
	if len(guards) > 0 {
		_, _ = in.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, g := range guards {
				p.Set(ctx, tasks.SeenKey(g), 1, in.guardTTL)
			}
			return nil
		})
	}
	return duplicate, nil
}

// confirmed reports whether the wait reached its replicas, and tells
// observe.
func (in *Ingress) confirmed(w *replicaWait) error {
	if !w.checked {
		return fmt.Errorf("%w: %w", ErrUnavailable, errNoReplicaWait)
	}
	ok := w.replicas >= w.min
	if in.observe != nil {
		in.observe(ok)
	}
	if !ok {
		return fmt.Errorf("%w (%d of %d)", ErrReplicasShort, w.replicas, w.min)
	}
	return nil
}

// seen reports whether any of ids has a gateway:seen: key, in one round
// trip (one EXISTS per key, so that Redis Cluster may keep them on
// different slots).
func (in *Ingress) seen(ctx context.Context, ids []string) (bool, error) {
	if len(ids) == 1 {
		n, err := in.rdb.Exists(ctx, tasks.SeenKey(ids[0])).Result()
		return n > 0, err
	}
	cmds := make([]*redis.IntCmd, len(ids))
	_, err := in.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Exists(ctx, tasks.SeenKey(id))
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	for _, c := range cmds {
		if c.Val() > 0 {
			return true, nil
		}
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
	if err := s.rdb.Set(ctx, tasks.SeenKey(id), 1, s.ttl).Err(); err != nil {
		return fmt.Errorf("mark %s seen: %w", id, err)
	}
	return nil
}
