// Package postgres stores bookings in PostgreSQL, the production database:
// it opens the database with pgx's database/sql driver, runs the embedded
// migrations and serves bookings.Store through bookings/sqldb.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/sqldb"
)

// Connection pool limits. A gateway process runs the HTTP receiver and up to
// a few dozen Asynq workers, each holding a connection for one short
// transaction at a time.
const (
	maxOpenConns    = 20
	maxIdleConns    = 10
	connMaxLifetime = 30 * time.Minute
	connMaxIdleTime = 5 * time.Minute
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a bookings.Store on PostgreSQL.
type Store struct {
	*sqldb.Store
}

var _ bookings.Store = (*Store)(nil)

// Open connects to the PostgreSQL database at dsn (a postgres:// URL or a
// key=value string) and checks it answers. It does not migrate: call
// Migrate.
func Open(ctx context.Context, dsn string) (*Store, error) {
	s, err := OpenLazy(dsn)
	if err != nil {
		return nil, err
	}
	if err := s.DB().PingContext(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connect to postgres: %w", err)
	}
	return s, nil
}

// OpenLazy is Open without connecting: it fails only for a malformed dsn,
// and the store connects (and reconnects) when used. A server may start
// while the database is down and report it in its readiness check.
func OpenLazy(dsn string) (*Store, error) {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxIdleConns)
	db.SetConnMaxLifetime(connMaxLifetime)
	db.SetConnMaxIdleTime(connMaxIdleTime)
	return &Store{Store: sqldb.New(db, sqldb.Postgres)}, nil
}

// Migrate applies the migrations the database has not seen yet. Several
// processes may migrate at once: a session advisory lock makes them take
// turns, and the later ones find nothing left to do.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	// Poll for the lock every second, for up to five minutes.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("migrate postgres: create lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, s.DB(), fsys,
		goose.WithSessionLocker(locker), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	// Not p.Close: it would close the store's database.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate postgres: %w", err)
	}
	return nil
}
