package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// CheckDurability reads the Redis settings that decide whether an event
// answered 200 can still be lost (appendonly, appendfsync,
// maxmemory-policy, and the connected replicas against minReplicas, the
// REDIS_MIN_REPLICAS setting) and returns one warning per risk found. A
// server that refuses CONFIG or INFO (managed services often do) is not
// checked on that point, quietly. Errors mean Redis did not answer. The
// embedded Redis is not checked: it loses everything on exit, and says so.
func (r *Redis) CheckDurability(ctx context.Context, minReplicas int) ([]string, error) {
	if r.Embedded != nil {
		return nil, nil
	}
	cc, ok := r.Client.(*redis.ClusterClient)
	if !ok {
		return durabilityWarnings(ctx, r.Client, "", minReplicas)
	}
	var mu sync.Mutex
	var all []string
	err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		ws, err := durabilityWarnings(ctx, c, c.Options().Addr+": ", minReplicas)
		mu.Lock()
		defer mu.Unlock()
		all = append(all, ws...)
		return err
	})
	return all, err
}

// durabilityWarnings checks one primary; prefix names it in a cluster.
func durabilityWarnings(ctx context.Context, c redis.Cmdable, prefix string, minReplicas int) ([]string, error) {
	var ws []string
	warn := func(format string, args ...any) { ws = append(ws, prefix+fmt.Sprintf(format, args...)) }
	conf := map[string]string{}
	for _, name := range []string{"appendonly", "appendfsync", "maxmemory-policy"} {
		v, err := c.ConfigGet(ctx, name).Result()
		if refused(err) {
			break // CONFIG renamed or not allowed: skip what it would tell
		}
		if err != nil {
			return nil, fmt.Errorf("read redis setting %s: %w", name, err)
		}
		if val, ok := v[name]; ok {
			conf[name] = strings.ToLower(val)
		}
	}
	switch aof, fsync := conf["appendonly"], conf["appendfsync"]; {
	case aof == "no":
		warn("Redis appendonly is no: a restart of Redis loses every queued event, answered 200 or not (set appendonly yes, appendfsync always)")
	case aof == "yes" && fsync == "everysec":
		warn("Redis appendfsync is everysec: a crash of Redis can lose up to about 1 s of events already answered 200 (appendfsync always is the safe choice)")
	case aof == "yes" && fsync == "no":
		warn("Redis appendfsync is no: the OS decides when the queue reaches the disk, so a crash can lose events already answered 200 (appendfsync always is the safe choice)")
	}
	if p, ok := conf["maxmemory-policy"]; ok && p != "noeviction" {
		warn("Redis maxmemory-policy is %s: at maxmemory Redis may evict queued tasks (set noeviction: Redis then refuses new tasks and senders get 503 and retry)", p)
	}
	info, err := c.Info(ctx, "replication").Result()
	if refused(err) {
		return ws, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read redis replication info: %w", err)
	}
	replicas, ok := connectedReplicas(info)
	switch {
	case !ok:
	case minReplicas == 0 && replicas > 0:
		warn("Redis has %d connected replica(s) but REDIS_MIN_REPLICAS is 0: events are answered 200 before a replica has them, so a failover can lose them (set REDIS_MIN_REPLICAS=1)", replicas)
	case minReplicas > replicas:
		warn("REDIS_MIN_REPLICAS is %d but Redis has %d connected replica(s): webhooks get 503 until enough replicas connect", minReplicas, replicas)
	}
	return ws, nil
}

// connectedReplicas reads connected_slaves from INFO replication.
func connectedReplicas(info string) (int, bool) {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "connected_slaves:"); ok {
			n, err := strconv.Atoi(v)
			return n, err == nil
		}
	}
	return 0, false
}

// refused reports whether err is the server's answer (a command renamed,
// unknown or not permitted) rather than a failure to reach it.
func refused(err error) bool {
	var re redis.Error
	return err != nil && errors.As(err, &re)
}
