// Package sqldb implements bookings.Store and bookings.Tx once, over
// database/sql, for every database a Dialect describes (PostgreSQL and
// SQLite). bookings/postgres and bookings/sqlite open the database, run
// their migrations and wrap this Store.
//
// Times are stored in UTC with microsecond precision; the zero time.Time is
// stored as NULL, and so is the empty string in nullable text columns.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

// Store is a bookings.Store over a database/sql handle.
//
// On SQLite the handle must open immediate transactions (modernc's
// _txlock=immediate) so that a transaction holds the write lock from its
// start: that is what makes Apply exactly-once and BookingForUpdate a lock.
type Store struct {
	db *sql.DB
	d  Dialect
}

var _ bookings.Store = (*Store)(nil)

// New returns a Store using db, whose SQL dialect is d. The schema must
// already exist.
func New(db *sql.DB, d Dialect) *Store {
	return &Store{db: db, d: d}
}

// DB returns the database handle, for migrations and tests.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the store's SQL dialect.
func (s *Store) Dialect() Dialect { return s.d }

// Ping checks the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w", s.d, err)
	}
	return nil
}

// Close closes the database handle.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.d, err)
	}
	return nil
}

func (s *Store) conn() conn { return conn{q: s.db, d: s.d} }

// Apply runs fn in one transaction that also records ev in webhook_events.
// The insert of the event row comes first: a concurrent Apply of the same
// event waits for this transaction (PostgreSQL's unique index, SQLite's
// write lock) and then finds the row, so fn's effects happen once.
func (s *Store) Apply(ctx context.Context, ev bookings.Event, fn func(ctx context.Context, tx bookings.Tx) (bookings.Result, error)) error {
	if ev.Source == "" || ev.ID == "" {
		return fmt.Errorf("apply event %q from %q: source and id are required", ev.ID, ev.Source)
	}
	err := s.inTx(ctx, func(c conn) error {
		inserted, err := insertEvent(ctx, c, ev)
		if err != nil {
			return err
		}
		if !inserted {
			return bookings.ErrAlreadyApplied
		}
		res, err := fn(ctx, &tx{c: c})
		if err != nil {
			return err
		}
		return finishEvent(ctx, c, ev, res, time.Now())
	})
	if err != nil && !errors.Is(err, bookings.ErrAlreadyApplied) {
		return fmt.Errorf("apply %s event %s: %w", ev.Source, ev.ID, err)
	}
	return err
}

// Run runs fn in one transaction without recording an event.
func (s *Store) Run(ctx context.Context, fn func(ctx context.Context, tx bookings.Tx) error) error {
	return s.inTx(ctx, func(c conn) error {
		return fn(ctx, &tx{c: c})
	})
}

// inTx runs fn in a transaction, committing when fn returns nil and rolling
// back otherwise (also when fn panics).
func (s *Store) inTx(ctx context.Context, fn func(c conn) error) error {
	sqlTx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer sqlTx.Rollback() //nolint:errcheck // a no-op after Commit
	if err := fn(conn{q: sqlTx, d: s.d}); err != nil {
		return err
	}
	if err := sqlTx.Commit(); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	return nil
}

// tx is the bookings.Tx of one database transaction.
type tx struct {
	c conn
}

var _ bookings.Tx = (*tx)(nil)
