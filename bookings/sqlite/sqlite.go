// Package sqlite stores bookings in an SQLite file, for running the gateway
// with no database server (make run). It opens the file with the pure-Go
// modernc.org/sqlite driver, runs the embedded migrations and serves
// bookings.Store through bookings/sqldb.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Store is a bookings.Store on an SQLite file.
type Store struct {
	*sqldb.Store
}

var _ bookings.Store = (*Store)(nil)

// Open opens (creating it and its directory if needed) the SQLite database
// at path and checks it answers. It does not migrate: call Migrate.
//
// Every connection waits up to 5s for a lock (busy_timeout), uses WAL
// journaling, enforces foreign keys and begins its transactions IMMEDIATE,
// so a transaction holds the write lock from its first statement: that is
// what makes bookings.Store.Apply exactly-once on SQLite.
//
// The pool holds one connection. SQLite allows one writer at a time anyway,
// and with a single connection writers queue in Go instead of failing with
// SQLITE_BUSY, and no autocommit write can race a transaction. The price:
// reads wait for a running transaction, and code running inside Apply or
// Run must use the bookings.Tx it is given, not the Store (which would wait
// for the connection the transaction holds, until ctx ends).
func Open(ctx context.Context, path string) (*Store, error) {
	if path == "" || strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open sqlite %q: need a file path without ? or #", path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("open sqlite %q: create directory: %w", path, err)
		}
	}
	// The file holds customers' names, emails and phones: private to its
	// owner. SQLite gives its -wal and -shm files the database's mode.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(on)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %q: %w", path, err)
	}
	return &Store{Store: sqldb.New(db, sqldb.SQLite)}, nil
}

// Migrate applies the migrations the database has not seen yet. It needs
// no lock: only one process uses an SQLite file, and each migration runs
// in an immediate (exclusive) transaction.
func (s *Store) Migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, s.DB(), fsys,
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	// Not p.Close: it would close the store's database.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("migrate sqlite: %w", err)
	}
	return nil
}
