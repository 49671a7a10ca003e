package main

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/opsview"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/tasks"
)

// Retention of completed tasks in Redis: visible in the ops UI for a while.
const completedRetention = time.Hour

// queueMetricsLease is how long the lease to export the queue-wide
// gateway_queue_* series lasts without renewal (renewed every third of it):
// when its holder dies, another process exports them within this time.
const queueMetricsLease = 15 * time.Second

// role is what a long-running command runs: the receiver, the worker or
// both (serve).
type role string

const (
	roleServe  role = "serve"
	roleAPI    role = "api"
	roleWorker role = "worker"
)

func (r role) receives() bool { return r != roleWorker }
func (r role) works() bool    { return r != roleAPI }

func runServe(ctx context.Context, e *env, _ []string) error  { return serve(ctx, e, roleServe) }
func runAPI(ctx context.Context, e *env, _ []string) error    { return serve(ctx, e, roleAPI) }
func runWorker(ctx context.Context, e *env, _ []string) error { return serve(ctx, e, roleWorker) }

// serve runs the receiver, the worker or both until ctx ends, then shuts
// down within SHUTDOWN_TIMEOUT (see shutdown).
func serve(ctx context.Context, e *env, r role) error {
	a, err := open(ctx, e, r)
	if err != nil {
		return err
	}
	defer a.Close()
	m := metrics.New()
	lease := queue.NewLease(a.redis, "queue-metrics", queueMetricsLease)
	lctx, stopLease := context.WithCancel(ctx)
	leaseDone := make(chan struct{})
	go func() { lease.Run(lctx); close(leaseDone) }()
	defer func() { stopLease(); <-leaseDone }() // released before Redis closes
	servers, err := a.httpServers(m, lease, r)
	if err != nil {
		return err
	}
	var worker *asynq.Server
	if r.works() {
		sched := newScheduler(a.redis)
		defer sched.Close()
		worker = a.workerServer()
		if err := worker.Start(jobs.NewMux(a.jobDeps(m, sched, servers[0].ln.Addr().String()))); err != nil {
			closeAll(servers)
			return fmt.Errorf("start worker: %w", err)
		}
		if every := a.cfg.ReconcileInterval; every > 0 {
			rec := newReconciler(a.cfg, a.store, a.redis, m, a.log)
			rctx, stopReconcile := context.WithCancel(ctx)
			reconcileDone := make(chan struct{})
			go func() { a.reconcileEvery(rctx, rec, every); close(reconcileDone) }()
			defer func() { stopReconcile(); <-reconcileDone }() // before Redis closes
			a.log.Info("reconciling periodically", "interval", every.String())
		}
	}
	a.banner(e, servers, r)
	if a.redis.Embedded != nil {
		defer a.publishEmbeddedRedis()()
	}
	errc := make(chan error, len(servers))
	for _, s := range servers {
		go func() { errc <- s.serve() }()
	}
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	a.shutdown(worker, servers)
	a.log.Info("stopped")
	return err
}

// shutdown stops the worker from taking new tasks at once, then lets
// in-flight requests and running tasks finish in parallel, the whole
// within SHUTDOWN_TIMEOUT: a task still running then is handed back to the
// queue (Asynq re-queues it) and open connections are closed.
func (a *app) shutdown(worker *asynq.Server, servers []*listener) {
	timeout := a.cfg.ShutdownTimeout
	a.log.Info("shutting down", "timeout", timeout.String())
	deadline := time.Now().Add(timeout)
	if worker != nil {
		worker.Stop()
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline.Add(-closeMargin(timeout)))
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Go(func() {
			if err := s.srv.Shutdown(ctx); err != nil {
				a.log.Warn("http requests still in flight at the shutdown deadline: closing them", "listener", s.name, "err", err)
				s.srv.Close()
			}
		})
	}
	if worker != nil {
		wg.Go(worker.Shutdown) // bounded by drainTimeout (workerServer)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		a.log.Error("shutdown did not finish within SHUTDOWN_TIMEOUT: exiting anyway", "timeout", timeout.String())
	}
}

// closeMargin is the part of SHUTDOWN_TIMEOUT kept for closing Redis and
// the database after the drain.
func closeMargin(timeout time.Duration) time.Duration { return min(timeout/10, 2*time.Second) }

// listener is one HTTP server and the address it is bound to.
type listener struct {
	name string // the setting it listens on: HTTP_ADDR or OPS_ADDR
	srv  *http.Server
	ln   net.Listener
}

func (l *listener) serve() error {
	var err error
	if l.srv.TLSConfig != nil {
		err = l.srv.ServeTLS(l.ln, "", "")
	} else {
		err = l.srv.Serve(l.ln)
	}
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return fmt.Errorf("serve http on %s: %w", l.name, err)
}

func closeAll(servers []*listener) {
	for _, s := range servers {
		s.ln.Close()
	}
}

// httpServers builds the receiver (or, for a worker-only process, its
// health and readiness probes) on HTTP_ADDR, and, when OPS_ADDR is set,
// the ops listener serving /ops/ and /metrics there instead.
func (a *app) httpServers(m *metrics.Metrics, lease metrics.Lease, r role) ([]*listener, error) {
	insp := asynq.NewInspector(a.redis.ConnOpt)
	queues := make([]string, 0, len(tasks.Queues()))
	for q := range tasks.Queues() {
		queues = append(queues, q)
	}
	m.Registry.MustRegister(metrics.NewQueueCollector(insp, lease, queues))
	deps := handlers.Deps{Redis: a.redis, Metrics: m, Log: a.log, Now: time.Now,
		Ops: a.opsHandler(), SeparateOps: a.cfg.OpsAddr != ""}
	if r.works() {
		deps.DB = handlers.PingerFunc(a.dbReady) // the receiver never uses the database
	}
	var h http.Handler = handlers.NewProbes(deps)
	if r.receives() {
		in := queue.NewIngress(a.redis, completedRetention, a.cfg.DedupeTTL)
		if err := in.RequireReplicas(a.cfg.RedisMinReplicas, m.ObserveReplicaWait); err != nil {
			return nil, err
		}
		deps.Queue = in
		h = a.receiver(deps)
	}
	var tlsConfig *tls.Config
	if a.cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(a.cfg.TLSCertFile, a.cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("TLS_CERT_FILE, TLS_KEY_FILE: %w", err)
		}
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	main, err := a.listen("HTTP_ADDR", a.cfg.HTTPAddr, h, tlsConfig)
	if err != nil {
		return nil, err
	}
	servers := []*listener{main}
	if a.cfg.OpsAddr != "" {
		ops, err := a.listen("OPS_ADDR", a.cfg.OpsAddr, handlers.NewOps(deps), tlsConfig)
		if err != nil {
			closeAll(servers)
			return nil, err
		}
		servers = append(servers, ops)
	}
	return servers, nil
}

// listen binds addr (the value of setting name) for h.
func (a *app) listen(name, addr string, h http.Handler, tlsConfig *tls.Config) (*listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s %s: %w", name, addr, err)
	}
	return &listener{name: name, ln: ln, srv: &http.Server{
		TLSConfig:         tlsConfig,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      20 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.log.Handler(), slog.LevelWarn),
	}}, nil
}

// receiver is the webhook receiver's handler.
func (a *app) receiver(d handlers.Deps) http.Handler {
	return handlers.New(handlers.Config{
		PublicBaseURL:   a.cfg.PublicBaseURL,
		StripeSecrets:   a.cfg.StripeWebhookSecrets,
		StripeTolerance: a.cfg.StripeTolerance,
		StripeLivemode:  a.cfg.StripeLivemode,
		TwilioTokens:    a.cfg.TwilioAuthTokens,
		MaxBodyBytes:    a.cfg.MaxBodyBytes,
	}, d)
}

// opsHandler is the Asynq web UI behind basic auth, refusing cross-origin
// requests that change state; nil (off) without credentials. The embedded
// default has generated credentials (withDevSecrets): whoever connects,
// a tunnel agent or a proxy on this host included, must present them.
func (a *app) opsHandler() http.Handler {
	if a.cfg.OpsUsername == "" {
		return nil
	}
	ui := asynqmon.New(asynqmon.Options{
		RootPath:     handlers.OpsPath,
		RedisConnOpt: a.redis.ConnOpt,
		ReadOnly:     a.cfg.OpsReadOnly,
		// Payloads carry customers' contacts and Stripe's client_secret.
		PayloadFormatter: asynqmon.PayloadFormatterFunc(jobs.FormatPayload),
	})
	var h http.Handler = ui
	if a.cfg.OpsPprof {
		h = withPprof(ui)
	}
	return basicAuth(sameOrigin(a.withPages(h)), a.cfg.OpsUsername, a.cfg.OpsPassword)
}

// withPages serves the request log and the bookings' stories (opsview)
// beside the Asynq UI ui, under the same root and auth.
func (a *app) withPages(ui http.Handler) http.Handler {
	src := opsview.Sources{Log: queue.NewRequestLog(a.redis),
		Tasks: asynq.NewInspectorFromRedisClient(a.redis.Client)}
	if a.store != nil {
		src.Store, src.History = a.store, a.store
	}
	pages := opsview.Handler(handlers.OpsPath, src, a.log)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !opsview.IsPage(handlers.OpsPath, r.URL.Path) {
			ui.ServeHTTP(w, r)
			return
		}
		if a.store == nil {
			writeError(w, http.StatusServiceUnavailable, "no database on this process")
			return
		}
		pages.ServeHTTP(w, r)
	})
}

// pprofPath is where OPS_PPROF=true serves net/http/pprof, behind the ops
// UI's auth (and on OPS_ADDR when that is set).
const pprofPath = handlers.OpsPath + "/debug/pprof/"

// withPprof serves the Go profiler under pprofPath and the rest with ui.
func withPprof(ui http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", ui)
	// pprof's handlers expect /debug/pprof/...: strip /ops.
	strip := func(h http.HandlerFunc) http.Handler { return http.StripPrefix(handlers.OpsPath, h) }
	mux.Handle(pprofPath, strip(pprof.Index))
	mux.Handle(pprofPath+"cmdline", strip(pprof.Cmdline))
	mux.Handle(pprofPath+"profile", strip(pprof.Profile))
	mux.Handle(pprofPath+"symbol", strip(pprof.Symbol))
	mux.Handle(pprofPath+"trace", strip(pprof.Trace))
	return mux
}

func basicAuth(next http.Handler, user, pass string) http.Handler {
	wantUser, wantPass := sha256.Sum256([]byte(user)), sha256.Sum256([]byte(pass))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		// Hashes first: ConstantTimeCompare returns at once on a length
		// difference, which would tell the password's length.
		hu, hp := sha256.Sum256([]byte(u)), sha256.Sum256([]byte(p))
		uok := subtle.ConstantTimeCompare(hu[:], wantUser[:]) == 1
		pok := subtle.ConstantTimeCompare(hp[:], wantPass[:]) == 1
		if !ok || !uok || !pok {
			w.Header().Set("WWW-Authenticate", `Basic realm="gateway ops", charset="UTF-8"`)
			writeError(w, http.StatusUnauthorized, "authentication required")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// sameOrigin refuses (403) a state-changing request that a browser marks
// as cross-site (Sec-Fetch-Site) or whose Origin is not this host: a page
// an operator visits cannot pause queues or run tasks with the operator's
// credentials. The standard library's CrossOriginProtection does the check.
func sameOrigin(next http.Handler) http.Handler {
	p := http.NewCrossOriginProtection()
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusForbidden, "cross-origin request refused")
	}))
	return p.Handler(next)
}

func writeError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(`{"error":"` + msg + `"}`))
}

// workerServer builds the Asynq server.
func (a *app) workerServer() *asynq.Server {
	return asynq.NewServer(a.redis.ConnOpt, asynq.Config{
		Concurrency: a.cfg.WorkerConcurrency,
		Queues:      tasks.Queues(),
		// Running tasks get the shutdown's whole drain (see shutdown).
		ShutdownTimeout: a.cfg.ShutdownTimeout - closeMargin(a.cfg.ShutdownTimeout),
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

// jobDeps are the worker's collaborators; addr is the address HTTP_ADDR is
// bound to, for the SMS status callback when PUBLIC_BASE_URL is unset.
func (a *app) jobDeps(m *metrics.Metrics, s *scheduler, addr string) jobs.Deps {
	d := jobs.Deps{
		Store:        a.store,
		Mailer:       notifications.NewLogMailer(a.log),
		Texter:       notifications.NewLogTexter(a.log),
		Scheduler:    s,
		Seen:         queue.NewSeen(a.redis, a.cfg.DedupeTTL),
		Receipts:     queue.NewReceipts(a.redis),
		Metrics:      m,
		Log:          a.log,
		Now:          time.Now,
		PaymentHold:  a.cfg.PaymentHold,
		SupportEmail: a.cfg.SupportEmail,
		Templates:    a.templates,
	}
	// The banner prints the same URL (a.banner, config.WebhookBaseURL).
	d.StatusCallbackURL = a.cfg.WebhookBaseURL(addr) + handlers.TwilioPath
	if a.cfg.PublicBaseURL == "" && a.cfg.SendsSMS() {
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
