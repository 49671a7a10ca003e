package main

import (
	"bytes"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/verify"
)

// TestRolesRefuseTheEmbeddedRedis: `gateway api` and `gateway worker`
// without REDIS_URL stop at once with one line naming REDIS_URL; only
// `gateway serve` runs on an embedded Redis.
func TestRolesRefuseTheEmbeddedRedis(t *testing.T) {
	for _, command := range []string{"api", "worker"} {
		t.Run(command, func(t *testing.T) {
			embeddedDefaults(t)
			var out outputBuffer
			err := run(context.Background(), []string{command}, gatewayEnv(map[string]string{"DATABASE_URL": sqliteURL(t)}), &out, &out)
			if err == nil {
				t.Fatalf("gateway %s started without REDIS_URL", command)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "REDIS_URL is unset") || strings.Contains(msg, "\n") {
				t.Errorf("error = %q, want one line starting with REDIS_URL", msg)
			}
			if strings.Contains(out.String(), "Listening on") {
				t.Errorf("gateway %s listened before refusing:\n%s", command, out.String())
			}
		})
	}
}

// devSecretsOf reads the development secrets a gateway in the current
// directory generated.
func devSecretsOf(t *testing.T) devSecrets {
	t.Helper()
	fi, err := os.Stat(devSecretsFile)
	if err != nil {
		t.Fatalf("no development secrets file: %v", err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("%s has mode %o, want 600", devSecretsFile, mode)
	}
	s, err := loadDevSecrets()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// repositorySecrets returns every whsec_ value written anywhere in the
// repository (sources, tests, docs, Makefile, compose files).
func repositorySecrets(t *testing.T) []string {
	t.Helper()
	root, err := filepath.Abs("../..") // from cmd/gateway: call before any t.Chdir
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("%s is not the repository root: %v", root, err)
	}
	re := regexp.MustCompile(`whsec_[A-Za-z0-9_]+`)
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "bin" || d.Name() == "data" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || strings.HasSuffix(path, ".png") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range re.FindAll(b, -1) {
			seen[string(m)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for s := range seen {
		out = append(out, s)
	}
	if len(out) == 0 {
		t.Fatal("found no whsec_ string in the repository: the walk is broken")
	}
	return out
}

// TestEmbeddedDefaultSecrets is `make run` with no secrets set: it
// generates random ones once, keeps them private under ./data, prints them,
// and nothing signed with a secret written anywhere in the repository is
// accepted.
func TestEmbeddedDefaultSecrets(t *testing.T) {
	known := repositorySecrets(t)
	embeddedDefaults(t)
	env := map[string]string{"DATABASE_URL": sqliteURL(t)}
	g := startGateway(t, []string{"serve"}, env)
	s := devSecretsOf(t)
	if !strings.HasPrefix(s[keyStripeSecret], "whsec_") || len(s[keyTwilioToken]) < 32 || len(s[keyOpsPassword]) < 20 {
		t.Fatalf("generated secrets look weak: %d/%d/%d characters", len(s[keyStripeSecret]), len(s[keyTwilioToken]), len(s[keyOpsPassword]))
	}
	out := g.stdout.String()
	for _, want := range []string{"STRIPE_WEBHOOK_SECRET=" + s[keyStripeSecret], "TWILIO_AUTH_TOKEN=" + s[keyTwilioToken],
		"user ops, password " + s[keyOpsPassword], devSecretsFile} {
		if !strings.Contains(out, want) {
			t.Errorf("banner does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(g.stderr.String(), s[keyStripeSecret]) || strings.Contains(g.stderr.String(), s[keyOpsPassword]) {
		t.Error("the logs carry a generated secret")
	}
	post := func(secret string) int {
		body := []byte(`{"id":"evt_safe_` + randomHex(4) + `","object":"event","type":"payment_intent.succeeded","livemode":false,` +
			`"data":{"object":{"id":"pi_1","object":"payment_intent","amount":6000,"currency":"usd","metadata":{"booking_id":"1"}}}}`)
		code, _ := g.do(http.MethodPost, handlers.StripePath, "application/json",
			http.Header{"Stripe-Signature": {verify.SignStripe(body, secret, time.Now())}}, string(body))
		return code
	}
	for _, secret := range known {
		if code := post(secret); code != http.StatusBadRequest {
			t.Errorf("an event signed with %s, written in the repository, got %d, want 400", secret, code)
		}
	}
	if code := post(s[keyStripeSecret]); code != http.StatusOK {
		t.Errorf("an event signed with the generated secret got %d, want 200", code)
	}
	g.stop()

	// A restart keeps the same secrets.
	g = startGateway(t, []string{"serve"}, env)
	if again := devSecretsOf(t); again[keyStripeSecret] != s[keyStripeSecret] || again[keyOpsPassword] != s[keyOpsPassword] {
		t.Error("a restart generated new secrets")
	}
	if code := post(s[keyStripeSecret]); code != http.StatusOK {
		t.Errorf("after a restart, an event signed with the generated secret got %d, want 200", code)
	}
}

// TestDevSecretsFileIsMadePrivate: a secrets file others can read is made
// private again at start.
func TestDevSecretsFileIsMadePrivate(t *testing.T) {
	embeddedDefaults(t)
	if _, err := ensureDevSecrets(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(devSecretsFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ensureDevSecrets(); err != nil {
		t.Fatal(err)
	}
	devSecretsOf(t) // checks the mode
}

// TestOpsThroughAProxyOnTheSameHost: a tunnel agent or reverse proxy on the
// gateway's host connects from 127.0.0.1; the embedded default's ops UI
// still asks it for credentials, and refuses a cross-site change made with
// them.
func TestOpsThroughAProxyOnTheSameHost(t *testing.T) {
	embeddedDefaults(t)
	g := startGateway(t, []string{"serve"}, map[string]string{"DATABASE_URL": sqliteURL(t)})
	target, _ := url.Parse(g.url)
	proxy := httptest.NewServer(httputil.NewSingleHostReverseProxy(target))
	t.Cleanup(proxy.Close)
	pass := devSecretsOf(t)[keyOpsPassword]
	do := func(method, path string, withAuth bool, header map[string]string) int {
		t.Helper()
		req, _ := http.NewRequest(method, proxy.URL+path, bytes.NewReader(nil))
		if withAuth {
			req.SetBasicAuth("ops", pass)
		}
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/ops/"}, {http.MethodGet, "/ops"}, {http.MethodGet, "/ops/api/queues"},
		{http.MethodPost, "/ops/api/queues/webhooks:pause"},
	} {
		if code := do(tt.method, tt.path, false, nil); code != http.StatusUnauthorized {
			t.Errorf("%s %s through the proxy without credentials = %d, want 401", tt.method, tt.path, code)
		}
	}
	if code := do(http.MethodGet, "/ops/api/queues", true, nil); code != http.StatusOK {
		t.Errorf("GET /ops/api/queues with the generated credentials = %d, want 200", code)
	}
	if code := do(http.MethodPost, "/ops/api/queues/webhooks:pause", true, map[string]string{"Origin": "https://evil.example"}); code != http.StatusForbidden {
		t.Errorf("cross-origin POST pause with credentials = %d, want 403", code)
	}
}

// TestReadinessPerRole: with the database down, an api (which never uses
// it) stays ready, so the load balancer keeps sending it webhooks; a worker
// is not ready and says why.
func TestReadinessPerRole(t *testing.T) {
	downDB := "postgres://postgres@" + freeAddr(t) + "/test?sslmode=disable&connect_timeout=1"
	redisURL := redistest.URL(t, redistest.DBCommand)
	tests := []struct {
		command  string
		wantCode int
		wantBody string
	}{
		{"api", http.StatusOK, `"status":"ready"`},
		{"worker", http.StatusServiceUnavailable, `"down":"database"`},
		{"serve", http.StatusServiceUnavailable, `"down":"database"`},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			g := startGateway(t, []string{tt.command}, map[string]string{"REDIS_URL": redisURL, "DATABASE_URL": downDB})
			code, body := g.get("/readyz")
			if code != tt.wantCode || !strings.Contains(body, tt.wantBody) {
				t.Errorf("/readyz of %s with the database down = %d %s, want %d with %s", tt.command, code, body, tt.wantCode, tt.wantBody)
			}
			if tt.command == "api" && strings.Contains(body, "database") {
				t.Errorf("the api's readiness mentions the database: %s", body)
			}
		})
	}
}

// TestOpsAddr: with OPS_ADDR set, /ops/ and /metrics are served there only;
// the webhook port keeps the webhooks and the probes.
func TestOpsAddr(t *testing.T) {
	opsAddr := freeAddr(t)
	g := startGateway(t, []string{"serve"}, map[string]string{
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t),
		"OPS_ADDR": opsAddr, "OPS_USERNAME": "ops", "OPS_PASSWORD": "pw", "STRIPE_WEBHOOK_SECRET": "whsec_opsaddr",
	})
	if !strings.Contains(g.stdout.String(), "Ops listening on "+opsAddr) {
		t.Errorf("banner does not name the ops listener:\n%s", g.stdout)
	}
	for _, path := range []string{"/metrics", "/ops/", "/ops/api/queues"} {
		if code, _ := g.get(path); code != http.StatusNotFound {
			t.Errorf("GET %s on HTTP_ADDR = %d, want 404", path, code)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, _ := g.get(path); code != http.StatusOK {
			t.Errorf("GET %s on HTTP_ADDR = %d, want 200", path, code)
		}
	}
	ops := &gateway{t: t, url: "http://" + opsAddr}
	if code, body := ops.get("/metrics"); code != http.StatusOK || !strings.Contains(body, "gateway_webhooks_total") {
		t.Errorf("GET /metrics on OPS_ADDR = %d, want 200 with the gateway's metrics", code)
	}
	if code, _ := ops.get("/ops/"); code != http.StatusUnauthorized {
		t.Errorf("GET /ops/ on OPS_ADDR without credentials = %d, want 401", code)
	}
	if code, _ := ops.do(http.MethodPost, handlers.StripePath, "application/json", nil, "{}"); code != http.StatusNotFound {
		t.Errorf("POST %s on OPS_ADDR = %d, want 404 (webhooks stay on HTTP_ADDR)", handlers.StripePath, code)
	}
}

// TestMissingSecretsAreLoudAtStart: a receiver without a provider's secret
// says so at start, naming the setting, not only at the first request.
func TestMissingSecretsAreLoudAtStart(t *testing.T) {
	g := startGateway(t, []string{"api"}, map[string]string{
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t),
		"PUBLIC_BASE_URL": "https://api.example.com",
	})
	logs, banner := g.stderr.String(), g.stdout.String()
	for _, want := range []string{"level=ERROR msg=\"STRIPE_WEBHOOK_SECRET is not set", "level=ERROR msg=\"TWILIO_AUTH_TOKEN is not set", "STRIPE_LIVEMODE is not set"} {
		if !strings.Contains(logs, want) {
			t.Errorf("start-up log lacks %q:\n%s", want, logs)
		}
	}
	for _, want := range []string{"STRIPE_WEBHOOK_SECRET is unset", "TWILIO_AUTH_TOKEN is unset"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}
}
