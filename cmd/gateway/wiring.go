package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/postgres"
	"github.com/reserveeasy/gateway/bookings/sqlite"
	"github.com/reserveeasy/gateway/config"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/queue"
)

// app holds what every long-running command opens.
type app struct {
	cfg      config.Config
	log      *slog.Logger
	store    migrator
	redis    *queue.Redis
	migrated atomic.Bool // the database schema is up to date
	// devSecrets are the settings the embedded default generated
	// (withDevSecrets), for the banner.
	devSecrets generated
	// templates are the messages' templates (TEMPLATES_DIR, BRAND_NAME).
	templates *notifications.Templates
}

// migrateRetry is how often a server retries migrating a database that
// was down when it started.
const migrateRetry = 3 * time.Second

// loadConfig reads the settings and makes the logger.
func loadConfig(e *env) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return cfg, nil, err // one line per bad setting, naming it
	}
	opts := &slog.HandlerOptions{Level: cfg.LogLevel, ReplaceAttr: durationsAsStrings}
	var h slog.Handler = slog.NewTextHandler(e.stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(e.stderr, opts)
	}
	return cfg, slog.New(h), nil
}

// durationsAsStrings logs a time.Duration as Go writes it ("1.5s"), not
// as the nanoseconds a JSON log would otherwise carry.
func durationsAsStrings(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// open loads the settings and opens the database and Redis for role r. A
// server starts even while either is down: it answers 503 (webhooks) and
// reports what is down (/readyz) until they answer, and migrates the
// database (unless MIGRATE=false) as soon as it can.
//
// Only `gateway serve` runs on the embedded Redis, with generated
// development secrets for what is unset (withDevSecrets).
func open(ctx context.Context, e *env, r role) (*app, error) {
	cfg, log, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	var gen generated
	switch {
	case cfg.EmbeddedRedis() && r == roleAPI:
		return nil, errors.New("REDIS_URL is unset: `gateway api` would queue events in a private in-memory Redis that no worker can see (only `gateway serve` runs on an embedded Redis)")
	case cfg.EmbeddedRedis() && r == roleWorker:
		return nil, errors.New("REDIS_URL is unset: `gateway worker` would read a private in-memory Redis that no receiver writes to (only `gateway serve` runs on an embedded Redis)")
	case cfg.EmbeddedRedis():
		if cfg, gen, err = withDevSecrets(cfg); err != nil {
			return nil, fmt.Errorf("development secrets: %w", err)
		}
	}
	log.Info("starting", "role", string(r), "config", cfg) // one field per setting (Config.LogValue)
	// A bad template stops the start, naming its file, rather than the
	// first message that uses it.
	templates, err := notifications.LoadTemplates(cfg.TemplatesDir, cfg.BrandName)
	if err != nil {
		return nil, err
	}
	if r.receives() {
		warnUnsafeReceiver(log, cfg)
	}
	store, err := openStore(ctx, cfg.DatabaseURL, false, true)
	if err != nil {
		return nil, err
	}
	rd, err := queue.Open(ctx, cfg.RedisURL)
	if err != nil {
		store.Close()
		return nil, err
	}
	a := &app{cfg: cfg, log: log, store: store, redis: rd, devSecrets: gen, templates: templates}
	if err := rd.Ping(ctx); err != nil {
		log.Error("redis does not answer yet: webhooks get 503 and tasks wait until it does", "err", err)
	} else if warnings, err := rd.CheckDurability(ctx, cfg.RedisMinReplicas); err != nil {
		log.Warn("redis durability settings not read", "err", err)
	} else {
		for _, w := range warnings {
			log.Warn(w)
		}
	}
	a.migrated.Store(!cfg.Migrate)
	if cfg.Migrate {
		if err := a.migrate(ctx); err != nil {
			log.Error("database not migrated yet: retrying in the background", "err", err)
			go a.migrateUntilDone(ctx)
		}
	}
	return a, nil
}

// warnUnsafeReceiver says loudly, at start, what makes a receiver reject
// every request of a provider or apply events it should not.
func warnUnsafeReceiver(log *slog.Logger, cfg config.Config) {
	if len(cfg.StripeWebhookSecrets) == 0 {
		log.Error("STRIPE_WEBHOOK_SECRET is not set: every Stripe webhook will be rejected (400)")
	}
	if len(cfg.TwilioAuthTokens) == 0 {
		log.Error("TWILIO_AUTH_TOKEN is not set: every Twilio callback will be rejected (403)")
	}
	if cfg.StripeLivemode == nil && cfg.PublicBaseURL != "" {
		log.Warn("STRIPE_LIVEMODE is not set: test-mode and live-mode Stripe events are both applied; set it to true in production")
	}
}

// migrate applies the migrations and records that they are.
func (a *app) migrate(ctx context.Context) error {
	if err := a.store.Migrate(ctx); err != nil {
		return err
	}
	a.migrated.Store(true)
	return nil
}

// migrateUntilDone retries the migrations every few seconds until they
// succeed or ctx ends.
func (a *app) migrateUntilDone(ctx context.Context) {
	t := time.NewTicker(migrateRetry)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.migrate(ctx); err != nil {
			a.log.Warn("database still not migrated", "err", err)
			continue
		}
		a.log.Info("database migrated")
		return
	}
}

// dbReady answers the readiness check for the database: it answers and
// its migrations are applied.
func (a *app) dbReady(ctx context.Context) error {
	if !a.migrated.Load() {
		return errors.New("migrations not applied yet")
	}
	return a.store.Ping(ctx)
}

func (a *app) Close() {
	if err := a.redis.Close(); err != nil {
		a.log.Warn("close redis", "err", err)
	}
	if err := a.store.Close(); err != nil {
		a.log.Warn("close database", "err", err)
	}
}

// migrator is a store that can migrate its schema and tell a booking's
// history.
type migrator interface {
	bookings.Store
	bookings.History
	Migrate(ctx context.Context) error
}

// openStore opens DATABASE_URL: postgres://... or sqlite:PATH. A lazy
// PostgreSQL store does not wait for the server to answer.
func openStore(ctx context.Context, dbURL string, migrate, lazy bool) (migrator, error) {
	var s migrator
	var err error
	switch path, ok := strings.CutPrefix(dbURL, "sqlite:"); {
	case ok:
		s, err = sqlite.Open(ctx, strings.TrimPrefix(path, "//"))
	case lazy:
		s, err = postgres.OpenLazy(dbURL)
	default:
		s, err = postgres.Open(ctx, dbURL)
	}
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if migrate {
		if err := s.Migrate(ctx); err != nil {
			s.Close()
			return nil, fmt.Errorf("migrate database: %w", err)
		}
	}
	return s, nil
}

func runMigrate(ctx context.Context, e *env, _ []string) error {
	cfg, log, err := loadConfig(e)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg.DatabaseURL, true, false)
	if err != nil {
		return err
	}
	log.Info("database migrated", "database", dbKind(cfg.DatabaseURL))
	return s.Close()
}

func dbKind(u string) string {
	if strings.HasPrefix(u, "sqlite:") {
		return "sqlite " + strings.TrimPrefix(u, "sqlite:")
	}
	return "postgresql"
}
