// Package queue connects the gateway to Redis, where Asynq keeps its tasks
// and the gateway remembers which webhook events it has seen. With no
// REDIS_URL it runs an embedded in-process Redis (miniredis).
package queue

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Timeouts of the connections the HTTP receiver uses: short, so a webhook
// gets 503 well within 5 seconds when Redis is away.
const (
	dialTimeout  = 1 * time.Second
	ioTimeout    = 1 * time.Second
	poolTimeout  = 1 * time.Second
	maxRetries   = 1
	retryBackoff = 50 * time.Millisecond
)

// Redis is an open connection to the gateway's Redis.
type Redis struct {
	// Client serves the HTTP receiver: short timeouts, one retry.
	Client redis.UniversalClient
	// ConnOpt makes new connections for Asynq's server, inspector and web UI.
	ConnOpt asynq.RedisConnOpt
	// Embedded is the in-process Redis, nil when REDIS_URL is set.
	Embedded *miniredis.Miniredis
	// EmbeddedURL is the embedded Redis's URL, with its generated password
	// (a secret: for the tools of this checkout only).
	EmbeddedURL string
	host        string // for messages: the URL's host, without credentials
	stop        chan struct{}
	limitsMu    sync.Mutex
	limits      EmbeddedLimits // of the embedded Redis (embedded.go)
}

// connOpt makes go-redis clients from a function (asynq.RedisConnOpt).
type connOpt func() redis.UniversalClient

// MakeRedisClient implements asynq.RedisConnOpt.
func (f connOpt) MakeRedisClient() interface{} { return f() }

// Open prepares clients for rawURL, or starts an embedded Redis when rawURL
// is "". It does not wait for Redis to answer (Ping does): a receiver may
// start while Redis is down, answer 503 and report it in its readiness.
// Forms: redis://[user:pass@]host:port[/db], rediss://... (TLS),
// redis-sentinel://[:pass@]host1:port,host2:port?master_name=NAME[&db=N],
// redis-cluster://host1:port?addr=host2:port&addr=host3:port (rediss-cluster
// for TLS).
func Open(ctx context.Context, rawURL string) (*Redis, error) {
	r := &Redis{stop: make(chan struct{})}
	if rawURL == "" {
		mr := miniredis.NewMiniRedis()
		// It holds every queued task: a local user who could write to it
		// would apply events without any signature. Only clients with this
		// password, generated per start, get in.
		pass := rand.Text()
		mr.RequireAuth(pass)
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start embedded redis: %w", err)
		}
		r.Embedded = mr
		rawURL = (&url.URL{Scheme: "redis", User: url.UserPassword("", pass), Host: mr.Addr()}).String()
		r.EmbeddedURL = rawURL
		r.limits = DefaultEmbeddedLimits
	}
	r.host = redactedHost(rawURL)
	mk, err := clientMaker(rawURL)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.ConnOpt = connOpt(func() redis.UniversalClient { return mk(false) })
	r.Client = mk(true)
	installReplicaHook(r.Client) // idle unless Ingress.RequireReplicas
	if r.Embedded != nil {
		go r.tickEmbedded()
	}
	return r, nil
}

// Addr is where the Redis listens (host:port or the URL's hosts).
func (r *Redis) Addr() string {
	if r.Embedded != nil {
		return r.Embedded.Addr()
	}
	return ""
}

// Ping checks Redis answers.
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.Client.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("ping redis at %s: %w", r.host, err)
	}
	return nil
}

// Close closes the client and stops an embedded Redis (losing its tasks).
func (r *Redis) Close() error {
	var err error
	if r.Client != nil {
		err = r.Client.Close()
	}
	if r.Embedded != nil {
		close(r.stop)
		r.Embedded.Close()
	}
	return err
}

// clientMaker parses rawURL once and returns a function making clients; fast
// clients get the receiver's short timeouts.
func clientMaker(rawURL string) (func(fast bool) redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL: %w", err)
	}
	tlsOn := strings.HasPrefix(u.Scheme, "rediss")
	plain := *u
	plain.Scheme = "redis"
	if tlsOn {
		plain.Scheme = "rediss"
	}
	switch u.Scheme {
	case "redis", "rediss":
		opt, err := redis.ParseURL(plain.String())
		if err != nil {
			return nil, fmt.Errorf("parse REDIS_URL: %w", err)
		}
		return func(fast bool) redis.UniversalClient {
			o := *opt
			if fast {
				shorten(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MaxRetryBackoff)
			}
			return redis.NewClient(&o)
		}, nil
	case "redis-sentinel":
		plain.Scheme = "redis"
		opt, err := sentinelOptions(&plain)
		if err != nil {
			return nil, err
		}
		return func(fast bool) redis.UniversalClient {
			o := *opt
			if fast {
				shorten(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MaxRetryBackoff)
			}
			return redis.NewFailoverClient(&o)
		}, nil
	case "redis-cluster", "rediss-cluster":
		opt, err := redis.ParseClusterURL(plain.String())
		if err != nil {
			return nil, fmt.Errorf("parse REDIS_URL: %w", err)
		}
		if tlsOn && opt.TLSConfig == nil {
			opt.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		return func(fast bool) redis.UniversalClient {
			o := *opt
			if fast {
				shorten(&o.DialTimeout, &o.ReadTimeout, &o.WriteTimeout, &o.PoolTimeout, &o.MaxRetries, &o.MaxRetryBackoff)
			}
			return redis.NewClusterClient(&o)
		}, nil
	}
	return nil, fmt.Errorf("REDIS_URL: unsupported scheme %q", u.Scheme)
}

// shorten sets the receiver's short timeouts on one kind of go-redis options.
func shorten(dial, read, write, pool *time.Duration, retries *int, backoff *time.Duration) {
	*dial, *read, *write, *pool = dialTimeout, ioTimeout, ioTimeout, poolTimeout
	*retries, *backoff = maxRetries, retryBackoff
}

// sentinelOptions reads redis-sentinel://[:pass@]h1:p1,h2:p2?master_name=M
// (master also accepted, as asynq spells it).
func sentinelOptions(u *url.URL) (*redis.FailoverOptions, error) {
	q := u.Query()
	if m := q.Get("master"); m != "" && q.Get("master_name") == "" {
		q.Set("master_name", m)
	}
	q.Del("master")
	hosts := strings.Split(u.Host, ",")
	u.Host = hosts[0]
	for _, h := range hosts[1:] {
		q.Add("addr", h)
	}
	u.RawQuery = q.Encode()
	opt, err := redis.ParseFailoverURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("parse REDIS_URL (sentinel): %w", err)
	}
	if opt.MasterName == "" {
		return nil, fmt.Errorf("REDIS_URL: sentinel URLs need ?master_name=NAME")
	}
	return opt, nil
}

func redactedHost(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Host
	}
	return "(unparsable url)"
}
