package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/queue"
)

// scheduler enqueues follow-up tasks; a task already queued under the same
// id is fine.
type scheduler struct{ c *asynq.Client }

func newScheduler(r *queue.Redis) *scheduler { return &scheduler{c: asynq.NewClient(r.ConnOpt)} }

func (s *scheduler) Schedule(ctx context.Context, t *asynq.Task) error {
	_, err := s.c.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) || errors.Is(err, asynq.ErrDuplicateTask) {
		return nil
	}
	return err
}

func (s *scheduler) Close() error { return s.c.Close() }

// asynqLogger sends Asynq's logs to slog.
type asynqLogger struct{ l *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.l.Debug(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.l.Info(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.l.Warn(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.l.Error(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.l.Error(fmt.Sprint(args...)); os.Exit(1) }

// banner tells a developer where everything is.
func (a *app) banner(e *env, ln net.Listener, api, work bool) {
	w := e.stdout
	base := a.cfg.PublicBaseURL
	local := ""
	if ln != nil {
		scheme := "http"
		if a.cfg.TLSCertFile != "" {
			scheme = "https"
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		local = scheme + "://localhost:" + port
		if base == "" {
			base = local
		}
	}
	fmt.Fprintln(w, strings.Repeat("=", 72))
	fmt.Fprintf(w, "ReserveEasy webhook gateway (receiver: %v, worker: %v)\n", api, work)
	if a.redis.Embedded != nil {
		fmt.Fprintf(w, "WARNING: REDIS_URL is unset: using an EMBEDDED in-process Redis at %s.\n", a.redis.Embedded.Addr())
		fmt.Fprintln(w, "WARNING: queued and scheduled tasks are LOST when this process exits. Set REDIS_URL in production.")
		a.log.Warn("embedded Redis in use: queued tasks are lost on exit", "addr", a.redis.Embedded.Addr())
	}
	fmt.Fprintf(w, "Database: %s\n", dbKind(a.cfg.DatabaseURL))
	switch {
	case api:
		printURLs(w, a, ln.Addr().String(), base, local)
	case ln != nil:
		fmt.Fprintf(w, "Listening on %s\n", ln.Addr())
		fmt.Fprintf(w, "Worker probes: %s/healthz  %s/readyz  %s/metrics\n", local, local, local)
	}
	fmt.Fprintln(w, strings.Repeat("=", 72))
}

func printURLs(w io.Writer, a *app, addr, base, local string) {
	fmt.Fprintf(w, "Listening on %s\n", addr)
	fmt.Fprintf(w, "Twilio SMS status webhook: %s%s\n", base, handlers.TwilioPath)
	fmt.Fprintf(w, "Stripe payment webhook:    %s%s\n", base, handlers.StripePath)
	switch {
	case a.cfg.OpsUsername != "":
		fmt.Fprintf(w, "Ops UI (basic auth):       %s%s/\n", base, handlers.OpsPath)
	case a.cfg.EmbeddedRedis():
		fmt.Fprintf(w, "Ops UI (open, loopback clients only): %s%s/\n", local, handlers.OpsPath)
	default:
		fmt.Fprintln(w, "Ops UI: off (set OPS_USERNAME and OPS_PASSWORD)")
	}
	fmt.Fprintf(w, "Health: %s/healthz  Ready: %s/readyz  Metrics: %s/metrics\n", local, local, local)
	fmt.Fprintf(w, "Forward Stripe events: stripe listen --forward-to %s%s\n", strings.TrimPrefix(strings.TrimPrefix(local, "http://"), "https://"), handlers.StripePath)
	if len(a.cfg.StripeWebhookSecrets) == 0 {
		fmt.Fprintln(w, "  then put the printed whsec_... into STRIPE_WEBHOOK_SECRET (comma-separated beside the dashboard one)")
	}
	if len(a.cfg.TwilioAuthTokens) == 0 {
		fmt.Fprintln(w, "NOTE: TWILIO_AUTH_TOKEN is unset: every Twilio callback is rejected (403).")
	}
}
