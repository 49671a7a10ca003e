package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings/postgres/postgrestest"
)

// TestMigrate runs `gateway migrate` on an empty database twice: the first
// run creates the contract's tables, the second finds nothing to do.
func TestMigrate(t *testing.T) {
	tests := []struct {
		name, driver string
		dbURL        func(t *testing.T) (dbURL, dsn string)
		tablesSQL    string
	}{
		{
			name: "postgres", driver: "pgx",
			dbURL: func(t *testing.T) (string, string) { u := postgrestest.URL(t); return u, u },
			tablesSQL: `SELECT table_name FROM information_schema.tables
				WHERE table_schema = 'public' AND table_name IN ('bookings', 'transactions', 'webhook_events', 'notifications')
				ORDER BY table_name`,
		},
		{
			name: "sqlite", driver: "sqlite",
			dbURL: func(t *testing.T) (string, string) {
				u := sqliteURL(t)
				return u, strings.TrimPrefix(u, "sqlite:")
			},
			tablesSQL: `SELECT name FROM sqlite_master
				WHERE type = 'table' AND name IN ('bookings', 'transactions', 'webhook_events', 'notifications')
				ORDER BY name`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dbURL, dsn := tt.dbURL(t)
			db, err := sql.Open(tt.driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			getenv := gatewayEnv(map[string]string{"DATABASE_URL": dbURL})
			ctx := context.Background()

			if err := run(ctx, []string{"migrate"}, getenv, io.Discard, io.Discard); err != nil {
				t.Fatalf("first migrate: %v", err)
			}
			want := []string{"bookings", "notifications", "transactions", "webhook_events"}
			if diff := cmp.Diff(want, queryStrings(t, db, tt.tablesSQL)); diff != "" {
				t.Errorf("tables after migrate (-want +got):\n%s", diff)
			}
			versions := queryStrings(t, db, "SELECT version_id || ':' || is_applied FROM goose_db_version ORDER BY id")
			if len(versions) < 2 {
				t.Fatalf("goose_db_version = %v, want the initial row and at least one migration", versions)
			}

			if err := run(ctx, []string{"migrate"}, getenv, io.Discard, io.Discard); err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			if diff := cmp.Diff(versions, queryStrings(t, db, "SELECT version_id || ':' || is_applied FROM goose_db_version ORDER BY id")); diff != "" {
				t.Errorf("second migrate changed goose_db_version (-want +got):\n%s", diff)
			}
		})
	}
}

func queryStrings(t *testing.T, db *sql.DB, query string) []string {
	t.Helper()
	rows, err := db.Query(query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestBadSettings: bad values stop the start with one line per setting,
// naming it, before anything is opened or printed.
func TestBadSettings(t *testing.T) {
	var stdout outputBuffer
	err := run(context.Background(), []string{"serve"},
		gatewayEnv(map[string]string{"PAYMENT_HOLD": "abc", "REDIS_URL": "http://x"}), &stdout, io.Discard)
	if err == nil {
		t.Fatal("run succeeded with PAYMENT_HOLD=abc and REDIS_URL=http://x")
	}
	named := map[string]int{}
	for _, line := range strings.Split(err.Error(), "\n") {
		for _, setting := range []string{"PAYMENT_HOLD", "REDIS_URL"} {
			if strings.Contains(line, setting) {
				named[setting]++
			}
		}
		if strings.Contains(line, "PAYMENT_HOLD") && strings.Contains(line, "REDIS_URL") {
			t.Errorf("one line names both settings: %q", line)
		}
	}
	if diff := cmp.Diff(map[string]int{"PAYMENT_HOLD": 1, "REDIS_URL": 1}, named); diff != "" {
		t.Errorf("lines naming each setting (-want +got):\n%s\nerror:\n%v", diff, err)
	}
	if out := stdout.String(); out != "" {
		t.Errorf("printed something before failing:\n%s", out)
	}
}

// TestHelp: --help, -h and help print the usage to stdout and succeed:
// run returns nil for the top level and flag.ErrHelp (which main turns
// into exit status 0) for a command.
func TestHelp(t *testing.T) {
	embeddedDefaults(t) // a command that opened the default database would create it here
	type want struct {
		err    error
		stdout []string
	}
	var all []string
	for _, c := range commands() {
		all = append(all, c.name)
	}
	tests := []struct {
		args []string
		want want
	}{
		{[]string{"--help"}, want{nil, append([]string{"usage: gateway <command>"}, all...)}},
		{[]string{"-h"}, want{nil, []string{"usage: gateway <command>"}}},
		{[]string{"help"}, want{nil, []string{"usage: gateway <command>"}}},
	}
	for _, c := range commands() {
		name := c.name
		if name == "serve" {
			name = "[serve]"
		}
		tests = append(tests, struct {
			args []string
			want want
		}{[]string{c.name, "--help"}, want{flag.ErrHelp, []string{"usage: gateway " + name}}})
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout outputBuffer
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err := run(ctx, tt.args, gatewayEnv(nil), &stdout, io.Discard)
			if !errors.Is(err, tt.want.err) {
				t.Errorf("run(%q) = %v, want %v", tt.args, err, tt.want.err)
			}
			out := stdout.String()
			for _, s := range tt.want.stdout {
				if !strings.Contains(out, s) {
					t.Errorf("stdout does not contain %q:\n%s", s, out)
				}
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	var stderr outputBuffer
	err := run(context.Background(), []string{"serv"}, gatewayEnv(nil), io.Discard, &stderr)
	if err == nil || !strings.Contains(err.Error(), `"serv"`) {
		t.Errorf("run(serv) = %v, want an error naming the command", err)
	}
	if !strings.Contains(stderr.String(), "usage: gateway <command>") {
		t.Errorf("stderr does not show the usage:\n%s", stderr.String())
	}
}
