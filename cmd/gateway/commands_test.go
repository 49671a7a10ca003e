package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings/postgres/postgrestest"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/verify"
)

// sqliteURL returns a DATABASE_URL for a new SQLite file in the test's
// temporary directory.
func sqliteURL(t *testing.T) string {
	t.Helper()
	return "sqlite:" + filepath.Join(t.TempDir(), "gw.db")
}

// embeddedDefaults makes the test run where an embedded-Redis gateway may
// write its files (it publishes its address under ./data) without touching
// the source tree.
func embeddedDefaults(t *testing.T) {
	t.Helper()
	t.Chdir(t.TempDir())
}

// TestServeEmbeddedDefault is `make run` with nothing installed: no
// REDIS_URL (embedded Redis), an SQLite file. It must be healthy and ready,
// say where everything is and warn about the embedded Redis, and stop
// cleanly when its context ends.
func TestServeEmbeddedDefault(t *testing.T) {
	embeddedDefaults(t)
	g := startGateway(t, []string{"serve"}, map[string]string{"DATABASE_URL": sqliteURL(t)})
	for _, path := range []string{"/healthz", "/readyz", "/ops/"} {
		if status, body := g.get(path); status != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", path, status, body)
		}
	}
	_, port, _ := strings.Cut(g.addr, ":")
	local := "http://localhost:" + port
	out := g.stdout.String()
	for _, want := range []string{
		"receiver: true, worker: true",
		"EMBEDDED",
		"LOST when this process exits",
		local + handlers.TwilioPath,
		local + handlers.StripePath,
		local + handlers.OpsPath + "/",
		"stripe listen --forward-to localhost:" + port + handlers.StripePath,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("banner does not say %q:\n%s", want, out)
		}
	}
	g.stop()
	if !refused(g.addr) {
		t.Errorf("%s still accepts connections after the gateway stopped", g.addr)
	}
}

// TestServeFinishesInFlightRequest cancels the gateway's context while a
// Stripe webhook is half received: the gateway stops accepting new
// connections at once but still reads, queues and answers that request,
// then returns nil.
func TestServeFinishesInFlightRequest(t *testing.T) {
	embeddedDefaults(t)
	const secret = "whsec_graceful"
	g := startGateway(t, []string{"serve"}, map[string]string{
		"DATABASE_URL": sqliteURL(t), "STRIPE_WEBHOOK_SECRET": secret,
	})
	payload := []byte(`{"id":"evt_graceful","object":"event","type":"payment_intent.succeeded","created":1700000000,` +
		`"data":{"object":{"id":"pi_graceful","object":"payment_intent","amount":6000,"currency":"usd","metadata":{"booking_id":"1"}}}}`)
	answer := g.startSlowPost(handlers.StripePath, payload, http.Header{
		"Stripe-Signature": {verify.SignStripe(payload, secret, time.Now())},
		"Content-Type":     {"application/json"},
	})
	// The handler is now reading the body, which the test holds back.
	g.cancel()
	eventually(t, 10*time.Second, func() string {
		if refused(g.addr) {
			return ""
		}
		return "the gateway still accepts new connections after its context ended"
	})
	got := answer()
	if diff := cmp.Diff(slowAnswer{Status: http.StatusOK, Body: `{"received":true}`}, got); diff != "" {
		t.Errorf("answer to the in-flight request (-want +got):\n%s", diff)
	}
	g.stop()
}

// slowAnswer is the outcome of a request sent with startSlowPost.
type slowAnswer struct {
	Status int
	Body   string
	Err    string
}

// startSlowPost sends the headers of a POST with Expect: 100-continue and
// waits until the handler starts reading the body (the server then sends
// 100 Continue). It returns a function that sends payload and returns the
// answer.
func (g *gateway) startSlowPost(path string, payload []byte, header http.Header) func() slowAnswer {
	g.t.Helper()
	pr, pw := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, g.url+path, pr)
	if err != nil {
		g.t.Fatal(err)
	}
	req.ContentLength = int64(len(payload))
	req.Header = header.Clone()
	req.Header.Set("Expect", "100-continue")
	continued := make(chan struct{})
	req = req.WithContext(httptrace.WithClientTrace(context.Background(),
		&httptrace.ClientTrace{Got100Continue: func() { close(continued) }}))
	tr := &http.Transport{ExpectContinueTimeout: time.Minute}
	g.t.Cleanup(tr.CloseIdleConnections)
	result := make(chan slowAnswer, 1)
	go func() {
		resp, err := (&http.Client{Transport: tr, Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			result <- slowAnswer{Err: err.Error()}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		a := slowAnswer{Status: resp.StatusCode, Body: strings.TrimSpace(string(b))}
		if err != nil {
			a.Err = err.Error()
		}
		result <- a
	}()
	select {
	case <-continued:
	case a := <-result:
		g.t.Fatalf("request ended before its body was asked for: %+v", a)
	case <-time.After(10 * time.Second):
		g.t.Fatal("the gateway never asked for the request body (no 100 Continue)")
	}
	return func() slowAnswer {
		g.t.Helper()
		go func() {
			_, _ = pw.Write(payload)
			pw.Close()
		}()
		select {
		case a := <-result:
			return a
		case <-time.After(30 * time.Second):
			g.t.Fatal("no answer to the in-flight request")
			return slowAnswer{}
		}
	}
}

// TestAPIAndWorker starts each half of the gateway on its own and stops it.
func TestAPIAndWorker(t *testing.T) {
	tests := []struct {
		command    string
		wantBanner string
		wantHTTP   bool
	}{ // both listen: the api for webhooks, the worker for its probes
		{"api", "receiver: true, worker: false", true},
		{"worker", "receiver: false, worker: true", true},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			embeddedDefaults(t)
			g := startGateway(t, []string{tt.command}, map[string]string{"DATABASE_URL": sqliteURL(t)})
			if out := g.stdout.String(); !strings.Contains(out, tt.wantBanner) {
				t.Errorf("banner does not say %q:\n%s", tt.wantBanner, out)
			}
			if got := g.addr != ""; got != tt.wantHTTP {
				t.Fatalf("listens: %v, want %v\n%s", got, tt.wantHTTP, g.stdout)
			}
			if status, body := g.get("/readyz"); status != http.StatusOK {
				t.Errorf("GET /readyz = %d %s, want 200", status, body)
			}
			if status, body := g.get("/metrics"); status != http.StatusOK || !strings.Contains(body, "gateway_queue_up 1") {
				t.Errorf("GET /metrics = %d, want 200 with the queue metrics", status)
			}
			// Only the receiver takes webhooks; a worker-only process serves probes.
			status, _ := g.do(http.MethodPost, handlers.StripePath, "application/json", nil, "{}")
			if receives := status != http.StatusNotFound; receives != (tt.command == "api") {
				t.Errorf("POST %s = %d on %s", handlers.StripePath, status, tt.command)
			}
			g.stop()
			if tt.wantHTTP && !refused(g.addr) {
				t.Errorf("%s still accepts connections after the gateway stopped", g.addr)
			}
		})
	}
}

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
