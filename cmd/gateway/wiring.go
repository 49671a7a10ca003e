package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/postgres"
	"github.com/reserveeasy/gateway/bookings/sqlite"
	"github.com/reserveeasy/gateway/config"
	"github.com/reserveeasy/gateway/queue"
)

// app holds what every long-running command opens.
type app struct {
	cfg   config.Config
	log   *slog.Logger
	store bookings.Store
	redis *queue.Redis
}

// loadConfig reads the settings and makes the logger.
func loadConfig(e *env) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(e.getenv)
	if err != nil {
		return cfg, nil, err // one line per bad setting, naming it
	}
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(e.stderr, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(e.stderr, opts)
	}
	return cfg, slog.New(h), nil
}

// open loads the settings and opens the database (migrating it unless
// MIGRATE=false) and Redis.
func open(ctx context.Context, e *env) (*app, error) {
	cfg, log, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	log.Info("starting", "config", cfg.String())
	store, err := openStore(ctx, cfg.DatabaseURL, cfg.Migrate)
	if err != nil {
		return nil, err
	}
	r, err := queue.Open(ctx, cfg.RedisURL)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &app{cfg: cfg, log: log, store: store, redis: r}, nil
}

func (a *app) Close() {
	if err := a.redis.Close(); err != nil {
		a.log.Warn("close redis", "err", err)
	}
	if err := a.store.Close(); err != nil {
		a.log.Warn("close database", "err", err)
	}
}

// migrator is a store that can migrate its schema.
type migrator interface {
	bookings.Store
	Migrate(ctx context.Context) error
}

// openStore opens DATABASE_URL: postgres://... or sqlite:PATH.
func openStore(ctx context.Context, dbURL string, migrate bool) (bookings.Store, error) {
	var s migrator
	var err error
	if path, ok := strings.CutPrefix(dbURL, "sqlite:"); ok {
		s, err = sqlite.Open(ctx, strings.TrimPrefix(path, "//"))
	} else {
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
	s, err := openStore(ctx, cfg.DatabaseURL, true)
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
