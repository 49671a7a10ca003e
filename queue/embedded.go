package queue

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reserveeasy/gateway/tasks"
)

// EmbeddedLimits bound what the embedded Redis keeps, so that `gateway
// serve` with REDIS_URL unset stays small in memory however many events it
// takes. A real Redis keeps everything for its full retention instead.
//
// Without them every completed task stays for its retention (an hour, about
// 3 KB each: the task hash and its member of the completed set; Asynq's
// janitor deletes them only once their time has come), every applied
// event's seen key for DEDUPE_TTL (a week) and the request log up to
// tasks.RequestLogMaxLen entries: at a few hundred events per second that
// is hundreds of MiB of Go maps and strings in the gateway's own heap.
type EmbeddedLimits struct {
	// Completed is how many completed tasks each queue keeps (the newest):
	// the ops UI shows them; a retry of an older event is still refused by
	// its seen key and, past that, applied once by the workers' database
	// check.
	Completed int
	// Archived is how many archived tasks each queue keeps (the newest:
	// Asynq itself keeps 10,000 for 90 days). An archived task is one
	// whose retries ran out or that could not apply (no such booking):
	// the logs and the ops UI name it.
	Archived int
	// Seen is how many gateway:seen: keys are kept (those with the longest
	// time to live, i.e. the newest, stay).
	Seen int
	// Requests is how many entries the request log keeps.
	Requests int64
}

// DefaultEmbeddedLimits are the embedded Redis's limits: a few tens of MiB
// at most.
var DefaultEmbeddedLimits = EmbeddedLimits{Completed: 1_000, Archived: 1_000, Seen: 50_000, Requests: 10_000}

// seenEvery is how many ticks (seconds) apart the seen keys are counted:
// listing them reads every key.
const seenEvery = 30

// SetEmbeddedLimits replaces the embedded Redis's limits (for tests).
func (r *Redis) SetEmbeddedLimits(l EmbeddedLimits) {
	r.limitsMu.Lock()
	defer r.limitsMu.Unlock()
	r.limits = l
}

func (r *Redis) embeddedLimits() EmbeddedLimits {
	r.limitsMu.Lock()
	defer r.limitsMu.Unlock()
	return r.limits
}

// tickEmbedded lets keys expire in the embedded Redis, whose clock only
// moves when told to (miniredis's TIME, and so Asynq's janitor, follow the
// wall clock; only TTLs need the push), and applies its limits.
func (r *Redis) tickEmbedded() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for n := 1; ; n++ {
		select {
		case <-r.stop:
			return
		case <-t.C:
			r.Embedded.FastForward(time.Second)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, _ = r.trimEmbedded(ctx, n%seenEvery == 0)
			cancel()
		}
	}
}

// TrimEmbedded applies the embedded Redis's limits now, seen keys included,
// and reports how many keys and stream entries it deleted. It does nothing
// on a real Redis.
func (r *Redis) TrimEmbedded(ctx context.Context) (int64, error) {
	if r.Embedded == nil {
		return 0, nil
	}
	return r.trimEmbedded(ctx, true)
}

func (r *Redis) trimEmbedded(ctx context.Context, seen bool) (int64, error) {
	l := r.embeddedLimits()
	c := r.Client
	var deleted int64
	queues, err := c.SMembers(ctx, "asynq:queues").Result()
	if err != nil {
		return 0, fmt.Errorf("trim embedded redis: %w", err)
	}
	for _, q := range queues {
		for _, set := range []struct {
			name string
			keep int
		}{{"completed", l.Completed}, {"archived", l.Archived}} {
			n, err := trimTasks(ctx, c, q, set.name, set.keep)
			deleted += n
			if err != nil {
				return deleted, err
			}
		}
	}
	if l.Requests > 0 {
		n, err := c.XTrimMaxLen(ctx, tasks.RequestsStream, l.Requests).Result()
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("trim request log: %w", err)
		}
	}
	if seen && l.Seen > 0 {
		deleted += int64(r.trimSeen(l.Seen))
	}
	return deleted, nil
}

// trimTasks deletes the oldest tasks of queue q's sorted set state
// ("completed": sorted by expiry time, that is by completion time;
// "archived": by archive time) beyond keep: their hashes and their members
// of the set.
func trimTasks(ctx context.Context, c redis.UniversalClient, q, state string, keep int) (int64, error) {
	completed := "asynq:{" + q + "}:" + state
	prefix := "asynq:{" + q + "}:t:"
	total, err := c.ZCard(ctx, completed).Result()
	if err != nil || total <= int64(keep) {
		return 0, err
	}
	var deleted int64
	for excess := total - int64(keep); excess > 0; {
		batch := min(excess, 1000)
		ids, err := c.ZRange(ctx, completed, 0, batch-1).Result()
		if err != nil || len(ids) == 0 {
			return deleted, err
		}
		_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
			keys := make([]string, len(ids))
			members := make([]any, len(ids))
			for i, id := range ids {
				keys[i], members[i] = prefix+id, id
			}
			p.Del(ctx, keys...)
			p.ZRem(ctx, completed, members...)
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("trim %s tasks of %s: %w", state, q, err)
		}
		deleted += int64(len(ids))
		excess -= int64(len(ids))
	}
	return deleted, nil
}

// trimSeen deletes the seen keys beyond keep that expire first (the
// oldest), straight in the embedded Redis (listing keys over the wire
// would copy them all).
func (r *Redis) trimSeen(keep int) int {
	db := r.Embedded.DB(0)
	var seen []string
	for _, k := range db.Keys() {
		if strings.HasPrefix(k, tasks.SeenPrefix) {
			seen = append(seen, k)
		}
	}
	if len(seen) <= keep {
		return 0
	}
	ttl := make(map[string]time.Duration, len(seen))
	for _, k := range seen {
		ttl[k] = db.TTL(k)
	}
	slices.SortFunc(seen, func(a, b string) int { return int(min(max(ttl[a]-ttl[b], -1), 1)) })
	for _, k := range seen[:len(seen)-keep] {
		db.Del(k)
	}
	return len(seen) - keep
}
