package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds of the harness. Start covers migrations on a busy machine; stop
// covers SHUTDOWN_TIMEOUT, which the harness sets to 10s.
const (
	gatewayStartTimeout = 30 * time.Second
	gatewayStopTimeout  = 20 * time.Second
)

// gateway is run() running in a goroutine of the test, as `gateway ARGS`
// with the environment the test gave.
type gateway struct {
	t              *testing.T
	cancel         context.CancelFunc
	done           chan error
	stdout, stderr *outputBuffer
	// addr is the address from the banner's "Listening on ADDR" line, ""
	// for a command without a receiver (worker); url is http://addr.
	addr, url string
	stopOnce  sync.Once
}

// outputBuffer is a bytes.Buffer safe for the program and the test to use
// at once.
type outputBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (o *outputBuffer) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.Write(p)
}

func (o *outputBuffer) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.b.String()
}

// gatewayEnv returns a getenv over env with the harness's defaults:
// HTTP_ADDR 127.0.0.1:0 and SHUTDOWN_TIMEOUT 10s unless env sets them.
func gatewayEnv(env map[string]string) func(string) string {
	m := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "SHUTDOWN_TIMEOUT": "10s"}
	for k, v := range env {
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

var (
	listeningLine = regexp.MustCompile(`(?m)^Listening on (\S+)$`)
	bannerRule    = strings.Repeat("=", 72)
)

// startGateway runs run(ctx, args, env) and waits until the banner is
// printed in full, reading the address it listens on. The gateway stops
// (and must return nil) when the test ends, if the test did not stop it.
func startGateway(t *testing.T, args []string, env map[string]string) *gateway {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g := &gateway{t: t, cancel: cancel, done: make(chan error, 1), stdout: &outputBuffer{}, stderr: &outputBuffer{}}
	go func() { g.done <- run(ctx, args, gatewayEnv(env), g.stdout, g.stderr) }()
	t.Cleanup(g.stop)
	deadline := time.Now().Add(gatewayStartTimeout)
	for strings.Count(g.stdout.String(), bannerRule) < 2 {
		select {
		case err := <-g.done:
			g.done <- err // for stop
			t.Fatalf("gateway %v returned before it was ready: %v\nstdout:\n%s\nstderr:\n%s", args, err, g.stdout, g.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("gateway %v printed no banner within %v\nstdout:\n%s\nstderr:\n%s", args, gatewayStartTimeout, g.stdout, g.stderr)
		}
	}
	if m := listeningLine.FindStringSubmatch(g.stdout.String()); m != nil {
		g.addr, g.url = m[1], "http://"+m[1]
	}
	return g
}

// stop cancels the gateway's context and checks that run returns nil
// within gatewayStopTimeout. It may be called more than once.
func (g *gateway) stop() {
	g.t.Helper()
	g.stopOnce.Do(func() {
		g.cancel()
		select {
		case err := <-g.done:
			if err != nil {
				g.t.Errorf("gateway returned %v after its context ended, want nil\nstderr:\n%s", err, g.stderr)
			}
		case <-time.After(gatewayStopTimeout):
			g.t.Errorf("gateway did not return within %v of its context ending\nstderr:\n%s", gatewayStopTimeout, g.stderr)
		}
	})
}

// get requests path on the gateway and returns the status and body.
func (g *gateway) get(path string) (int, string) {
	g.t.Helper()
	return g.do(http.MethodGet, path, "", nil, "")
}

// do sends one request to the gateway and returns the status and body.
// Redirects are not followed.
func (g *gateway) do(method, path, contentType string, header http.Header, body string) (int, string) {
	g.t.Helper()
	if g.url == "" {
		g.t.Fatal("this gateway has no HTTP receiver")
	}
	req, err := http.NewRequest(method, g.url+path, strings.NewReader(body))
	if err != nil {
		g.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
	if err != nil {
		g.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return resp.StatusCode, string(b)
}

// refused reports whether nothing accepts connections at addr.
func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
	}
	return err != nil
}

// freeAddr returns a 127.0.0.1 address nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// eventually waits until cond returns "" (met) and fails the test with
// cond's last answer after timeout.
func eventually(t *testing.T, timeout time.Duration, cond func() string) {
	t.Helper()
	if why := waitUntil(timeout, cond); why != "" {
		t.Fatalf("still not so after %v: %s", timeout, why)
	}
}

// waitUntil polls cond every 25ms until it returns "" or timeout passes,
// and returns cond's last answer ("" when met).
func waitUntil(timeout time.Duration, cond func() string) string {
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" || time.Now().After(deadline) {
			return why
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// TestMain quiets go-redis's pool messages, as main does.
func TestMain(m *testing.M) {
	redis.SetLogger(quietRedisLog{})
	os.Exit(m.Run())
}
