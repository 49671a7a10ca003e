package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/config"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/queue/redistest"
)

func opsApp(t *testing.T, cfg config.Config) *app {
	t.Helper()
	return &app{cfg: cfg, log: slog.New(slog.NewTextHandler(io.Discard, nil)), redis: redistest.Open(t, redistest.DBCommand)}
}

func opsRequest(t *testing.T, h http.Handler, method, path, user, pass, remote string) int {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if remote != "" {
		req.RemoteAddr = remote
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code == http.StatusUnauthorized && rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("401 without WWW-Authenticate")
	}
	return rec.Code
}

func TestOpsUIBasicAuth(t *testing.T) {
	a := opsApp(t, config.Config{RedisURL: "redis://x", OpsUsername: "ops", OpsPassword: "s3cret"})
	h := a.opsHandler()
	if h == nil {
		t.Fatal("ops UI off although credentials are set")
	}
	tests := []struct {
		name, user, pass string
		want             int
	}{
		{"no credentials", "", "", http.StatusUnauthorized},
		{"wrong password", "ops", "nope", http.StatusUnauthorized},
		{"wrong user", "root", "s3cret", http.StatusUnauthorized},
		{"right credentials", "ops", "s3cret", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := opsRequest(t, h, http.MethodGet, "/ops/", tt.user, tt.pass, ""); got != tt.want {
				t.Errorf("GET /ops/ = %d, want %d", got, tt.want)
			}
		})
	}
	if got := opsRequest(t, h, http.MethodGet, "/ops/api/queues", "ops", "s3cret", ""); got != http.StatusOK {
		t.Errorf("GET /ops/api/queues = %d, want 200", got)
	}
}

// TestOpsWithoutSlash: /ops is the UI too, behind the same auth, with no
// redirect.
func TestOpsWithoutSlash(t *testing.T) {
	a := opsApp(t, config.Config{RedisURL: "redis://x", OpsUsername: "ops", OpsPassword: "s3cret"})
	e := handlers.New(handlers.Config{}, handlers.Deps{Ops: a.opsHandler(), Metrics: metrics.New(), Log: a.log})
	if got := opsRequest(t, e, http.MethodGet, "/ops", "", "", ""); got != http.StatusUnauthorized {
		t.Errorf("GET /ops without credentials = %d, want 401", got)
	}
	if got := opsRequest(t, e, http.MethodGet, "/ops", "ops", "s3cret", ""); got != http.StatusOK {
		t.Errorf("GET /ops/api/queues = %d, want 200", got)
	}
}

func TestOpsUIReadOnly(t *testing.T) {
	for _, ro := range []bool{false, true} {
		a := opsApp(t, config.Config{RedisURL: "redis://x", OpsUsername: "ops", OpsPassword: "pw", OpsReadOnly: ro})
		got := opsRequest(t, a.opsHandler(), http.MethodPost, "/ops/api/queues/webhooks:pause", "ops", "pw", "")
		if ro != (got == http.StatusMethodNotAllowed) {
			t.Errorf("read-only=%v: POST pause = %d", ro, got)
		}
	}
}

func TestOpsUIOffWithoutCredentials(t *testing.T) {
	for _, cfg := range []config.Config{{RedisURL: "redis://x"}, {}} {
		if h := opsApp(t, cfg).opsHandler(); h != nil {
			t.Errorf("ops UI on without credentials (REDIS_URL %q)", cfg.RedisURL)
		}
	}
}

// TestOpsUIRefusesCrossOrigin: with the right credentials, a request that
// changes state is still refused when a browser says it comes from another
// site, or its Origin is not this host; reading is not.
func TestOpsUIRefusesCrossOrigin(t *testing.T) {
	h := opsApp(t, config.Config{RedisURL: "redis://x", OpsUsername: "ops", OpsPassword: "pw"}).opsHandler()
	tests := []struct {
		name, method string
		header       map[string]string
		want         int
	}{
		{"cross-site form post", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"same-site, other subdomain", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"foreign Origin, no Sec-Fetch-Site", http.MethodPost, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"foreign Origin, delete", http.MethodDelete, map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"the UI itself", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://example.com"}, http.StatusNoContent},
		{"same host Origin", http.MethodPost, map[string]string{"Origin": "http://example.com"}, http.StatusNoContent},
		{"curl, no browser headers", http.MethodPost, nil, http.StatusNoContent},
		{"cross-site read", http.MethodGet, map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/ops/api/queues/webhooks:pause"
			if tt.method == http.MethodGet {
				path = "/ops/api/queues"
			} else if tt.method == http.MethodDelete {
				path = "/ops/api/queues/webhooks/archived_tasks:batch_delete"
			}
			req := httptest.NewRequest(tt.method, "http://example.com"+path, nil)
			req.SetBasicAuth("ops", "pw")
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			// An allowed request reaches the UI, whatever the UI answers
			// (pausing a paused queue is its own 500).
			if refused := rec.Code == http.StatusForbidden; refused != (tt.want == http.StatusForbidden) {
				t.Errorf("%s %s = %d %s, want %d", tt.method, path, rec.Code, rec.Body, tt.want)
			}
			if tt.want == http.StatusForbidden && rec.Body.String() != `{"error":"cross-origin request refused"}` {
				t.Errorf("body = %s", rec.Body)
			}
		})
	}
}

func TestOpsUIServesItsPages(t *testing.T) {
	a := opsApp(t, config.Config{RedisURL: "redis://x", OpsUsername: "ops", OpsPassword: "pw"})
	req := httptest.NewRequest(http.MethodGet, "/ops/", nil)
	req.SetBasicAuth("ops", "pw")
	rec := httptest.NewRecorder()
	a.opsHandler().ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), "/ops") {
		t.Errorf("index does not root its assets at /ops:\n%.300s", rec.Body.String())
	}
}

// TestOpsPprof: the profiler is off unless OPS_PPROF=true, and then behind
// the ops UI's auth.
func TestOpsPprof(t *testing.T) {
	for _, on := range []bool{false, true} {
		h := opsApp(t, config.Config{RedisURL: "redis://x", OpsUsername: "ops", OpsPassword: "pw", OpsPprof: on}).opsHandler()
		if got := opsRequest(t, h, http.MethodGet, "/ops/debug/pprof/", "", "", ""); got != http.StatusUnauthorized {
			t.Errorf("OPS_PPROF=%v: pprof without credentials = %d, want 401", on, got)
		}
		req := httptest.NewRequest(http.MethodGet, "/ops/debug/pprof/goroutine?debug=1", nil)
		req.SetBasicAuth("ops", "pw")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		served := rec.Code == http.StatusOK && strings.Contains(rec.Body.String(), "goroutine profile")
		if served != on {
			t.Errorf("OPS_PPROF=%v: goroutine profile served = %v (%d)", on, served, rec.Code)
		}
	}
}
