package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
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
func (a *app) banner(e *env, servers []*listener, r role) {
	w := e.stdout
	fmt.Fprintln(w, strings.Repeat("=", 72))
	fmt.Fprintf(w, "ReserveEasy webhook gateway: %s (receiver: %v, worker: %v)\n", r, r.receives(), r.works())
	if a.redis.Embedded != nil {
		fmt.Fprintf(w, "WARNING: REDIS_URL is unset: using an EMBEDDED in-process Redis at %s.\n", a.redis.Embedded.Addr())
		fmt.Fprintln(w, "WARNING: queued and scheduled tasks are LOST when this process exits. Set REDIS_URL in production.")
		a.log.Warn("embedded Redis in use: queued tasks are lost on exit", "addr", a.redis.Embedded.Addr())
	}
	fmt.Fprintf(w, "Database: %s\n", dbKind(a.cfg.DatabaseURL))
	addr := servers[0].ln.Addr().String()
	local := a.cfg.LocalURL(addr)
	fmt.Fprintf(w, "Listening on %s\n", servers[0].ln.Addr())
	opsBase := local
	if len(servers) > 1 {
		opsBase = a.cfg.LocalURL(servers[1].ln.Addr().String())
		fmt.Fprintf(w, "Ops listening on %s (OPS_ADDR): /ops/ and /metrics are served there only\n", servers[1].ln.Addr())
	}
	if r.receives() {
		a.printWebhookURLs(w, addr)
	}
	switch {
	case a.cfg.OpsUsername != "":
		fmt.Fprintf(w, "Ops UI (basic auth, user %s): %s%s/\n", a.cfg.OpsUsername, opsBase, handlers.OpsPath)
	default:
		fmt.Fprintln(w, "Ops UI: off (set OPS_USERNAME and OPS_PASSWORD)")
	}
	fmt.Fprintf(w, "Health: %s/healthz  Ready: %s/readyz  Metrics: %s/metrics\n", local, local, opsBase)
	a.printDevSecrets(w)
	fmt.Fprintln(w, strings.Repeat("=", 72))
}

// printWebhookURLs prints the URLs the providers call and sign: the same
// the worker gives Twilio as StatusCallback (jobDeps) and the receiver
// checks signatures against (PUBLIC_BASE_URL, else the URL requested).
func (a *app) printWebhookURLs(w io.Writer, addr string) {
	base, local := a.cfg.WebhookBaseURL(addr), a.cfg.LocalURL(addr)
	fmt.Fprintf(w, "Twilio SMS status webhook: %s%s\n", base, handlers.TwilioPath)
	fmt.Fprintf(w, "Stripe payment webhook:    %s%s\n", base, handlers.StripePath)
	fmt.Fprintf(w, "Forward Stripe events: stripe listen --forward-to %s%s\n", strings.TrimPrefix(strings.TrimPrefix(local, "http://"), "https://"), handlers.StripePath)
	fmt.Fprintln(w, "  then put the whsec_... it prints into STRIPE_WEBHOOK_SECRET (comma-separated beside any other)")
	if len(a.cfg.StripeWebhookSecrets) == 0 {
		fmt.Fprintln(w, "WARNING: STRIPE_WEBHOOK_SECRET is unset: every Stripe webhook is rejected (400).")
	}
	if len(a.cfg.TwilioAuthTokens) == 0 {
		fmt.Fprintln(w, "WARNING: TWILIO_AUTH_TOKEN is unset: every Twilio callback is rejected (403).")
	}
}

// printDevSecrets shows the development secrets the embedded default
// generated, so that a developer can sign requests and log in.
func (a *app) printDevSecrets(w io.Writer) {
	if len(a.devSecrets) == 0 {
		return
	}
	fmt.Fprintf(w, "Development secrets (random, generated once, kept in %s, mode 0600):\n", devSecretsFile)
	for _, k := range a.devSecrets {
		switch k {
		case keyStripeSecret:
			fmt.Fprintf(w, "  STRIPE_WEBHOOK_SECRET=%s\n", a.cfg.StripeWebhookSecrets[0])
		case keyTwilioToken:
			fmt.Fprintf(w, "  TWILIO_AUTH_TOKEN=%s\n", a.cfg.TwilioAuthTokens[0])
		case keyOpsPassword:
			fmt.Fprintf(w, "  ops UI: user %s, password %s\n", a.cfg.OpsUsername, a.cfg.OpsPassword)
		}
	}
	fmt.Fprintln(w, "  `gateway demo` reads them from there; set the settings yourself to use others.")
}
