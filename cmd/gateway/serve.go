package main

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/queue"
)

// Retention of completed tasks in Redis: visible in the ops UI for a while.
const completedRetention = time.Hour

func runServe(ctx context.Context, e *env, _ []string) error  { return serve(ctx, e, true, true) }
func runAPI(ctx context.Context, e *env, _ []string) error    { return serve(ctx, e, true, false) }
func runWorker(ctx context.Context, e *env, _ []string) error { return serve(ctx, e, false, true) }

// serve runs the HTTP receiver, the worker or both until ctx ends, then
// shuts down gracefully: stop accepting, finish in-flight requests and
// running tasks (bounded by SHUTDOWN_TIMEOUT), close everything.
func serve(ctx context.Context, e *env, api, work bool) error {
	a, err := open(ctx, e)
	if err != nil {
		return err
	}
	defer a.Close()
	m := metrics.New()
	srv, ln, err := a.httpServer(m, api)
	if err != nil {
		return err
	}
	var worker *asynq.Server
	var sched *scheduler
	if work {
		sched = newScheduler(a.redis)
		defer sched.Close()
		worker = a.workerServer()
		if err := worker.Start(jobs.NewMux(a.jobDeps(m, sched))); err != nil {
			return fmt.Errorf("start worker: %w", err)
		}
	}
	a.banner(e, ln, api, work)
	if a.redis.Embedded != nil {
		defer a.publishEmbeddedRedis()()
	}
	errc := make(chan error, 1)
	go func() { errc <- serveHTTP(srv, ln) }()
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	a.log.Info("shutting down", "timeout", a.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), a.cfg.ShutdownTimeout)
	if serr := srv.Shutdown(sctx); serr != nil {
		a.log.Warn("http shutdown", "err", serr)
	}
	cancel()
	if worker != nil {
		worker.Shutdown()
	}
	a.log.Info("stopped")
	return err
}

func serveHTTP(srv *http.Server, ln net.Listener) error {
	var err error
	if srv.TLSConfig != nil {
		err = srv.ServeTLS(ln, "", "")
	} else {
		err = srv.Serve(ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve http: %w", err)
}

// httpServer builds the receiver (or, for a worker-only process, its
// health, readiness and metrics endpoints) and binds HTTP_ADDR.
func (a *app) httpServer(m *metrics.Metrics, api bool) (*http.Server, net.Listener, error) {
	insp := asynq.NewInspector(a.redis.ConnOpt)
	m.Registry.MustRegister(metrics.NewQueueCollector(insp))
	deps := handlers.Deps{Redis: a.redis, DB: handlers.PingerFunc(a.dbReady), Metrics: m, Log: a.log, Now: time.Now}
	var h http.Handler = handlers.NewProbes(deps)
	if api {
		deps.Queue = queue.NewIngress(a.redis, completedRetention)
		deps.Ops = a.opsHandler()
		h = a.receiver(deps)
	}
	var tlsConfig *tls.Config
	if a.cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCertFile, a.cfg.TLSKeyFile)
		if err != nil {
			return nil, nil, fmt.Errorf("TLS_CERT_FILE, TLS_KEY_FILE: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	ln, err := net.Listen("tcp", a.cfg.HTTPAddr)
	if err != nil {
		return nil, nil, fmt.Errorf("listen on HTTP_ADDR %s: %w", a.cfg.HTTPAddr, err)
	}
	return &http.Server{
		TLSConfig:         tlsConfig,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}, ln, nil
}

// receiver is the webhook receiver's handler.
func (a *app) receiver(d handlers.Deps) http.Handler {
	return handlers.New(handlers.Config{
		PublicBaseURL:   a.cfg.PublicBaseURL,
		StripeSecrets:   a.cfg.StripeWebhookSecrets,
		StripeTolerance: a.cfg.StripeTolerance,
		TwilioTokens:    a.cfg.TwilioAuthTokens,
		MaxBodyBytes:    a.cfg.MaxBodyBytes,
	}, d)
}

// opsHandler is the Asynq web UI behind basic auth; nil when off. With the
// embedded Redis and no credentials it is open to loopback clients only.
func (a *app) opsHandler() http.Handler {
	open := a.cfg.OpsUsername == "" && a.cfg.EmbeddedRedis()
	if a.cfg.OpsUsername == "" && !open {
		return nil
	}
	ui := asynqmon.New(asynqmon.Options{
		RootPath:     handlers.OpsPath,
		RedisConnOpt: a.redis.ConnOpt,
		ReadOnly:     a.cfg.OpsReadOnly,
		// Payloads carry customers' contacts and Stripe's client_secret.
		PayloadFormatter: asynqmon.PayloadFormatterFunc(jobs.FormatPayload),
	})
	if open {
		return loopbackOnly(ui)
	}
	return basicAuth(ui, a.cfg.OpsUsername, a.cfg.OpsPassword)
}

func basicAuth(next http.Handler, user, pass string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		uok := subtle.ConstantTimeCompare([]byte(u), []byte(user)) == 1
		pok := subtle.ConstantTimeCompare([]byte(p), []byte(pass)) == 1
		if !ok || !uok || !pok {
			w.Header().Set("WWW-Authenticate", `Basic realm="gateway ops", charset="UTF-8"`)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"authentication required"}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

func loopbackOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host, _, _ := net.SplitHostPort(r.RemoteAddr)
		if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"error":"ops UI is open to loopback clients only; set OPS_USERNAME and OPS_PASSWORD"}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// workerServer builds the Asynq server.
func (a *app) workerServer() *asynq.Server {
	return asynq.NewServer(a.redis.ConnOpt, asynq.Config{
		Concurrency:     a.cfg.WorkerConcurrency,
		Queues:          jobs.Queues(),
		ShutdownTimeout: a.cfg.ShutdownTimeout,
		// An idle worker looks for new tasks every 200ms (Asynq: 1s) and
		// for due scheduled and retry tasks every second (Asynq: 5s): a
		// webhook is applied well under a second after it was accepted.
		TaskCheckInterval:        200 * time.Millisecond,
		DelayedTaskCheckInterval: time.Second,
		Logger:                   asynqLogger{a.log.With("component", "asynq")},
		LogLevel:                 asynq.InfoLevel,
		HealthCheckFunc: func(err error) {
			if err != nil {
				a.log.Warn("worker cannot reach redis", "err", err)
			}
		},
	})
}

func (a *app) jobDeps(m *metrics.Metrics, s *scheduler) jobs.Deps {
	d := jobs.Deps{
		Store:        a.store,
		Mailer:       notifications.NewLogMailer(a.log),
		Texter:       notifications.NewLogTexter(a.log),
		Scheduler:    s,
		Seen:         queue.NewSeen(a.redis, a.cfg.DedupeTTL),
		Metrics:      m,
		Log:          a.log,
		Now:          time.Now,
		PaymentHold:  a.cfg.PaymentHold,
		SupportEmail: a.cfg.SupportEmail,
	}
	d.StatusCallbackURL = a.localBaseURL() + handlers.TwilioPath
	if a.cfg.PublicBaseURL != "" {
		d.StatusCallbackURL = a.cfg.PublicBaseURL + handlers.TwilioPath
	} else if a.cfg.SendsSMS() {
		a.log.Warn("PUBLIC_BASE_URL is unset: SMS status callbacks point to " + d.StatusCallbackURL + ", which Twilio cannot reach")
	}
	if a.cfg.SMTPURL != nil {
		if mailer, err := notifications.NewSMTPMailer(a.cfg.SMTPURL, a.cfg.EmailFrom); err == nil {
			d.Mailer = mailer
		} else {
			a.log.Error("SMTP_URL unusable; emails are logged, not sent", "err", err)
		}
	}
	if a.cfg.SendsSMS() {
		t, err := notifications.NewTwilioTexter(a.cfg.TwilioAccountSID, a.cfg.TwilioAuthTokens[0],
			a.cfg.TwilioFromNumber, a.cfg.TwilioAPIBaseURL)
		if err == nil {
			d.Texter = t
		} else {
			a.log.Error("Twilio settings unusable; SMS are logged, not sent", "err", err)
		}
	}
	return d
}

// localBaseURL is this gateway's URL as seen from its own machine (for
// status callbacks when PUBLIC_BASE_URL is unset).
func (a *app) localBaseURL() string {
	scheme := "http"
	if a.cfg.TLSCertFile != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(a.cfg.HTTPAddr)
	if err != nil {
		return scheme + "://localhost"
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
