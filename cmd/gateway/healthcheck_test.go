package main

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/config"
	"github.com/reserveeasy/gateway/queue/redistest"
)

// readyzServer answers GET /readyz with code and body and counts the calls.
func readyzServer(t *testing.T, tlsOn bool, code int, body string) (addr string, calls *atomic.Int32) {
	t.Helper()
	calls = &atomic.Int32{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(body))
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the plain-http probe's handshake error
	if tlsOn {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), calls
}

// healthcheck runs `gateway healthcheck` with env as its whole environment.
func healthcheck(t *testing.T, env map[string]string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb strings.Builder
	err = run(context.Background(), []string{"healthcheck"}, func(k string) string { return env[k] }, &out, &errb)
	return out.String(), errb.String(), err
}

func TestHealthcheckReady(t *testing.T) {
	addr, calls := readyzServer(t, false, http.StatusOK, `{"status":"ready","redis":"ok","database":"ok"}`)
	out, _, err := healthcheck(t, map[string]string{"HTTP_ADDR": addr})
	if err != nil {
		t.Fatalf("healthcheck against a 200 /readyz: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("/readyz called %d times, want 1", calls.Load())
	}
	if !strings.Contains(out, "answered 200") {
		t.Errorf("stdout %q does not say it answered 200", out)
	}
}

// HTTP_ADDR ":PORT" (every interface, as in docker-compose.yml) is checked
// on 127.0.0.1.
func TestHealthcheckAllInterfacesMeansLoopback(t *testing.T) {
	addr, calls := readyzServer(t, false, http.StatusOK, `{"status":"ready"}`)
	_, port, _ := net.SplitHostPort(addr)
	for _, a := range []string{":" + port, "0.0.0.0:" + port, "[::]:" + port} {
		if _, _, err := healthcheck(t, map[string]string{"HTTP_ADDR": a}); err != nil {
			t.Errorf("HTTP_ADDR=%s: %v", a, err)
		}
	}
	if calls.Load() != 3 {
		t.Errorf("/readyz called %d times, want 3", calls.Load())
	}
}

func TestHealthcheckNotReady(t *testing.T) {
	addr, calls := readyzServer(t, false, http.StatusServiceUnavailable,
		`{"status":"unavailable","redis":"down","database":"ok","down":"redis"}`)
	_, _, err := healthcheck(t, map[string]string{"HTTP_ADDR": addr})
	if err == nil {
		t.Fatal("healthcheck against a 503 /readyz succeeded")
	}
	if calls.Load() != 1 {
		t.Errorf("/readyz called %d times, want 1", calls.Load())
	}
	msg := err.Error()
	for _, want := range []string{"http://" + addr + "/readyz", "503", "down: redis"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
}

func TestHealthcheckNotReadyWithoutJSON(t *testing.T) {
	addr, _ := readyzServer(t, false, http.StatusBadGateway, "<html>bad gateway</html>")
	_, _, err := healthcheck(t, map[string]string{"HTTP_ADDR": addr})
	if err == nil || !strings.Contains(err.Error(), "502") || strings.Contains(err.Error(), "down:") {
		t.Errorf("healthcheck against a 502 HTML answer = %v, want an error naming 502 and no down field", err)
	}
}

func TestHealthcheckNothingListening(t *testing.T) {
	addr := freeAddr(t) // was free a moment ago: nothing listens there
	_, _, err := healthcheck(t, map[string]string{"HTTP_ADDR": addr})
	if err == nil {
		t.Fatal("healthcheck with nothing listening succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "nothing answered at http://"+addr+"/readyz") {
		t.Errorf("error %q does not say nothing answered at %s", msg, addr)
	}
	if strings.Contains(msg, "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
}

// With TLS_CERT_FILE set it asks over https and accepts the certificate it
// cannot verify (a self-signed one here, a public name's in production).
func TestHealthcheckTLS(t *testing.T) {
	certFile, keyFile, _ := writeCert(t)
	addr, calls := readyzServer(t, true, http.StatusOK, `{"status":"ready"}`)
	_, _, err := healthcheck(t, map[string]string{"HTTP_ADDR": addr, "TLS_CERT_FILE": certFile, "TLS_KEY_FILE": keyFile})
	if err != nil {
		t.Fatalf("healthcheck over https: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("/readyz called %d times, want 1", calls.Load())
	}

	// and plain http against a TLS server is an error, not a pass
	if _, _, err := healthcheck(t, map[string]string{"HTTP_ADDR": addr}); err == nil {
		t.Error("plain-http healthcheck against an https server succeeded")
	}
}

func TestHealthcheckBadSetting(t *testing.T) {
	_, _, err := healthcheck(t, map[string]string{"HTTP_ADDR": "nonsense"})
	if err == nil || !strings.Contains(err.Error(), "HTTP_ADDR") {
		t.Errorf("HTTP_ADDR=nonsense: %v, want an error naming HTTP_ADDR", err)
	}
}

func TestHealthcheckReadyzURL(t *testing.T) {
	tests := []struct {
		addr, cert, want string
	}{
		{":8080", "", "http://127.0.0.1:8080/readyz"},
		{"0.0.0.0:9000", "", "http://127.0.0.1:9000/readyz"},
		{"[::]:8080", "", "http://127.0.0.1:8080/readyz"},
		{"127.0.0.2:8080", "", "http://127.0.0.2:8080/readyz"},
		{"[::1]:8443", "cert.pem", "https://[::1]:8443/readyz"},
		{"localhost:8080", "", "http://localhost:8080/readyz"},
	}
	for _, tt := range tests {
		got := readyzURL(config.Config{HTTPAddr: tt.addr, TLSCertFile: tt.cert})
		if got != tt.want {
			t.Errorf("readyzURL(HTTP_ADDR=%q, TLS %v) = %q, want %q", tt.addr, tt.cert != "", got, tt.want)
		}
	}
}

// Against a real `gateway api`: its /readyz answers 200 once Redis and the
// database answer.
func TestHealthcheckRealGateway(t *testing.T) {
	g := startGateway(t, []string{"api"}, map[string]string{
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t),
	})
	eventually(t, 10*time.Second, func() string {
		if _, _, err := healthcheck(t, map[string]string{"HTTP_ADDR": g.addr}); err != nil {
			return err.Error()
		}
		return ""
	})
}
