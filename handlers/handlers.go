// Package handlers is the gateway's HTTP surface: thin Echo handlers for the
// Twilio and Stripe webhooks, health, readiness, metrics and the ops UI. A
// webhook handler reads a capped body, verifies it, queues one task and
// answers; it does no SQL and holds no business rules.
package handlers

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/metrics"
)

// Queue takes one task per event, under the task id id; duplicate is true
// when the event was already taken. guards are further, unsigned ids of
// the event (Twilio's idempotency token) that may only make it a
// duplicate. Errors mean the queue could not take it (answer 503).
type Queue interface {
	Enqueue(ctx context.Context, id string, task *asynq.Task, guards ...string) (duplicate bool, err error)
}

// Pinger answers whether a dependency is up.
type Pinger interface {
	Ping(ctx context.Context) error
}

// PingerFunc adapts a function to Pinger.
type PingerFunc func(ctx context.Context) error

// Ping calls f.
func (f PingerFunc) Ping(ctx context.Context) error { return f(ctx) }

// Config is what the handlers need. Secrets are used for verification only.
type Config struct {
	PublicBaseURL   string
	StripeSecrets   []string
	StripeTolerance time.Duration
	// StripeLivemode, when set, is the only mode of Stripe event applied
	// (true: live, false: test); events of the other mode are ignored.
	StripeLivemode *bool
	TwilioTokens   []string
	MaxBodyBytes   int64
	// EnqueueTimeout bounds the wait for Redis (answer 503 within it).
	EnqueueTimeout time.Duration
}

// Deps are the collaborators the handlers use.
type Deps struct {
	Queue Queue
	Redis Pinger
	// DB is checked by /readyz; nil for a process that does not use the
	// database (gateway api).
	DB      Pinger
	Metrics *metrics.Metrics
	Log     *slog.Logger
	Now     func() time.Time
	// Ops serves the web UI under /ops/ (already wrapped in its auth); nil
	// turns /ops/ off.
	Ops http.Handler
	// SeparateOps moves /metrics and /ops/ to their own listener (NewOps,
	// on OPS_ADDR): New and NewProbes then serve neither.
	SeparateOps bool
}

const defaultEnqueueTimeout = 4 * time.Second
