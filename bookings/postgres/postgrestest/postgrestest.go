// Package postgrestest gives tests a fresh, migrated PostgreSQL database of
// their own on a real server, dropped when the test ends.
//
// The server is the one TEST_DATABASE_URL names, else DATABASE_URL when it
// is a postgres:// URL, else postgres://postgres@127.0.0.1:5432/test. A
// server that does not answer fails the test: it is never skipped.
package postgrestest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/reserveeasy/gateway/bookings/postgres"
)

// DefaultURL is the server tests use when neither TEST_DATABASE_URL nor a
// postgres DATABASE_URL is set.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// timeout bounds each setup and cleanup step.
const timeout = 30 * time.Second

// ServerURL returns the URL of the server tests use (see the package
// documentation).
func ServerURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	if u := os.Getenv("DATABASE_URL"); strings.HasPrefix(u, "postgres") {
		return u
	}
	return DefaultURL
}

// Open returns a store on a fresh, migrated database that is closed and
// dropped when tb ends.
func Open(tb testing.TB) *postgres.Store {
	tb.Helper()
	u := URL(tb)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	s, err := postgres.Open(ctx, u)
	if err != nil {
		tb.Fatalf("postgrestest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("postgrestest: %v", err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("postgrestest: %v", err)
	}
	return s
}

// URL creates a fresh, empty database named gw_test_<random> on the test
// server and returns its URL. The database is dropped (with any
// connections still open to it) when tb ends.
func URL(tb testing.TB) string {
	tb.Helper()
	server := ServerURL()
	u, err := url.Parse(server)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		tb.Fatalf("postgrestest: test database URL %q is not a postgres:// URL", redact(server))
	}
	admin, err := sql.Open("pgx", server)
	if err != nil {
		tb.Fatalf("postgrestest: open %s: %v", redact(server), err)
	}
	tb.Cleanup(func() { admin.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		tb.Fatalf("postgrestest: PostgreSQL at %s does not answer (set TEST_DATABASE_URL to a server tests may create databases on): %v",
			redact(server), err)
	}
	name := "gw_test_" + randomHex(tb)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("postgrestest: create database %s on %s: %v", name, redact(server), err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Errorf("postgrestest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

func randomHex(tb testing.TB) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		tb.Fatalf("postgrestest: random database name: %v", err)
	}
	return hex.EncodeToString(b)
}

// redact hides the password in a URL for messages.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
