package queue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reserveeasy/gateway/tasks"
)

// ErrReplicasShort means the task is in the primary's queue but fewer
// replicas than required confirmed it within the bound. It wraps
// ErrUnavailable: the sender is answered 503 and its retry is a duplicate
// of a queued task, which the workers apply once.
var ErrReplicasShort = fmt.Errorf("%w: too few redis replicas confirmed the task", ErrUnavailable)

// Bounds of a replica wait.
const (
	// waitReserve is kept back from the caller's deadline (and from the
	// connection's read timeout) for WAIT's reply to arrive.
	waitReserve = 200 * time.Millisecond
	// defaultWaitBound bounds a wait whose context has no deadline.
	defaultWaitBound = 3 * time.Second
)

// Asynq has no way to wait for replicas (hibiken/asynq#373), and WAIT only
// counts the writes of the connection it runs on. So the enqueue script
// Asynq's client sends is intercepted by a go-redis hook (replicaHook,
// installed on Redis.Client by Open) when its context carries a
// replicaWait: the hook runs the script and WAIT in one pipeline on one
// connection (one round trip when the replicas keep up), waits again on
// that connection while the bound allows, and leaves the count in the
// replicaWait. Outside such a context the hook does nothing.

// replicaWait asks the hook to wait for min replicas, and holds the outcome.
type replicaWait struct {
	min      int
	checked  bool // WAIT ran on the connection that ran the script
	replicas int  // what the last WAIT answered
}

type replicaWaitKey struct{}

// withReplicaWait returns ctx asking the hook to wait for w.min replicas.
func withReplicaWait(ctx context.Context, w *replicaWait) context.Context {
	return context.WithValue(ctx, replicaWaitKey{}, w)
}

// replicaHook implements redis.Hook. node gives the client of the primary
// that holds key: the client itself, or for a cluster the key's master.
type replicaHook struct {
	node func(ctx context.Context, key string) (*redis.Client, error)
}

// installReplicaHook adds the hook to c (a *redis.Client, as Sentinel's
// failover client is too, or a *redis.ClusterClient).
func installReplicaHook(c redis.UniversalClient) {
	switch c := c.(type) {
	case *redis.Client:
		c.AddHook(replicaHook{node: func(context.Context, string) (*redis.Client, error) { return c, nil }})
	case *redis.ClusterClient:
		c.AddHook(replicaHook{node: c.MasterForKey})
	}
}

func (replicaHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (replicaHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (h replicaHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		w, ok := ctx.Value(replicaWaitKey{}).(*replicaWait)
		name, args := cmd.Name(), cmd.Args()
		if !ok || (name != "evalsha" && name != "eval") || len(args) < 4 {
			return next(ctx, cmd)
		}
		key, _ := args[3].(string) // eval script numkeys key1 ...
		node, err := h.node(ctx, key)
		if err != nil {
			return fmt.Errorf("find the redis primary of %s: %w", key, err)
		}
		return w.run(ctx, node, cmd, key)
	}
}

// run sends script (Asynq's enqueue) and WAIT on one connection of node.
// The script's reply is left in script; the replicas in w.
func (w *replicaWait) run(ctx context.Context, node *redis.Client, script redis.Cmder, key string) error {
	conn := node.Conn()
	defer conn.Close()
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(defaultWaitBound)
	}
	readTimeout := node.Options().ReadTimeout
	var wait *redis.IntCmd
	_, _ = conn.Pipelined(ctx, func(p redis.Pipeliner) error {
		_ = p.Process(ctx, script)
		wait = waitCmd(ctx, p, w.min, waitTimeout(deadline, readTimeout))
		return nil
	})
	if err := script.Err(); err != nil {
		return err // Asynq reports it (or retries a NOSCRIPT with EVAL)
	}
	if n, _ := script.(*redis.Cmd).Int64(); n != 1 {
		// The task was already there, written by an earlier request whose
		// replication this connection's WAIT does not cover. A write of
		// our own, in the same slot, lets WAIT prove that everything up to
		// now (that task included) reached the replicas.
		_, _ = conn.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, replicatedMarker(key), 1, time.Minute)
			wait = waitCmd(ctx, p, w.min, waitTimeout(deadline, readTimeout))
			return nil
		})
	}
	for wait.Err() == nil && int(wait.Val()) < w.min && time.Until(deadline) > 2*waitReserve {
		_, _ = conn.Pipelined(ctx, func(p redis.Pipeliner) error {
			wait = waitCmd(ctx, p, w.min, waitTimeout(deadline, readTimeout))
			return nil
		})
	}
	if err := wait.Err(); err != nil {
		return fmt.Errorf("wait for redis replicas: %w", err)
	}
	w.checked, w.replicas = true, int(wait.Val())
	return nil
}

// waitCmd queues WAIT n timeout on p (go-redis's Pipeliner has no Wait).
func waitCmd(ctx context.Context, p redis.Pipeliner, n int, timeout time.Duration) *redis.IntCmd {
	cmd := redis.NewIntCmd(ctx, "wait", n, timeout.Milliseconds())
	_ = p.Process(ctx, cmd)
	return cmd
}

// waitTimeout is WAIT's timeout: what is left before deadline, and within
// the connection's read timeout (pipelines read with it), less the time
// kept for the reply; at least 1 ms (WAIT 0 would block for ever).
func waitTimeout(deadline time.Time, readTimeout time.Duration) time.Duration {
	t := time.Until(deadline) - waitReserve
	if readTimeout > 0 && readTimeout-waitReserve < t {
		t = readTimeout - waitReserve
	}
	return max(t, time.Millisecond)
}

// replicatedMarker is a key of the gateway's in the same cluster slot as
// key (same hash tag).
func replicatedMarker(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return tasks.ReplicatedPrefix + key[i:i+j+2]
		}
	}
	return tasks.ReplicatedPrefix + "{" + key + "}"
}

// errNoReplicaWait means the enqueue returned without the hook having run
// WAIT, which would be a change in how Asynq enqueues: fail closed.
var errNoReplicaWait = errors.New("the enqueue did not pass through the replica wait")
