package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptrace"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/queue/redistest"
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
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, body := g.get(path); status != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", path, status, body)
		}
	}
	if status, _ := g.get("/ops/"); status != http.StatusUnauthorized {
		t.Errorf("GET /ops/ without credentials = %d, want 401", status)
	}
	_, port, _ := strings.Cut(g.addr, ":")
	local := "http://127.0.0.1:" + port // HTTP_ADDR is 127.0.0.1:0
	out := g.stdout.String()
	for _, want := range []string{
		"receiver: true, worker: true",
		"EMBEDDED",
		"LOST when this process exits",
		local + handlers.TwilioPath,
		local + handlers.StripePath,
		local + handlers.OpsPath + "/",
		"stripe listen --forward-to 127.0.0.1:" + port + handlers.StripePath,
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
			g := startGateway(t, []string{tt.command}, map[string]string{
				"DATABASE_URL": sqliteURL(t), "REDIS_URL": redistest.URL(t, redistest.DBCommand),
			})
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
