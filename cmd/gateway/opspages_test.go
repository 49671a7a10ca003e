package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/config"
	"github.com/reserveeasy/gateway/queue"
)

// opsPagesServer serves the ops UI of an app over f's Redis and database
// on a real HTTP listener.
func opsPagesServer(t *testing.T, f logFixture) *httptest.Server {
	t.Helper()
	r, err := queue.Open(t.Context(), f.env["REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	s, err := openStore(t.Context(), f.env["DATABASE_URL"], false, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	a := &app{cfg: config.Config{OpsUsername: "ops", OpsPassword: "s3cret"}, log: slog.New(slog.NewTextHandler(io.Discard, nil)), redis: r, store: s}
	srv := httptest.NewServer(a.opsHandler())
	t.Cleanup(srv.Close)
	return srv
}

func getPage(t *testing.T, url string, auth bool) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth {
		req.SetBasicAuth("ops", "s3cret")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// TestOpsPages: the requests page and a booking's story, behind the ops
// UI's auth, sender-controlled text escaped, contacts masked, events linked
// to their Asynq task pages.
func TestOpsPages(t *testing.T) {
	f := newLogFixture(t)
	srv := opsPagesServer(t, f)
	booking := "/ops/bookings/" + f.bookingID
	for _, path := range []string{"/ops/requests", booking} {
		if code, _ := getPage(t, srv.URL+path, false); code != http.StatusUnauthorized {
			t.Errorf("GET %s without credentials = %d, want 401", path, code)
		}
	}
	code, body := getPage(t, srv.URL+"/ops/requests", true)
	if code != http.StatusOK {
		t.Fatalf("GET /ops/requests = %d\n%s", code, body)
	}
	for _, want := range []string{
		`href="/ops/queues/webhooks/tasks/stripe:evt_log_archived"`,
		`href="/ops/bookings/` + f.bookingID + `"`,
		"applied (paid)", "archived", "queued", "invalid_signature", "too_large", "unavailable", "bad_request",
		"evt_log_&lt;script&gt;", "&lt;b&gt;bold&lt;/b&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/ops/requests lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "<b>bold") {
		t.Errorf("/ops/requests shows sender-controlled markup unescaped:\n%s", body)
	}
	code, body = getPage(t, srv.URL+"/ops/requests?outcome=invalid_signature", true)
	if code != http.StatusOK || strings.Contains(body, "evt_log_applied") || !strings.Contains(body, "invalid signature") {
		t.Errorf("GET /ops/requests?outcome=invalid_signature = %d, not filtered:\n%s", code, body)
	}
	if code, body := getPage(t, srv.URL+"/ops/requests?outcome=nope&provider=paypal", true); code != http.StatusBadRequest || !strings.Contains(body, "--outcome &#34;nope&#34;") {
		t.Errorf("GET /ops/requests?outcome=nope = %d, want 400 naming it:\n%s", code, body)
	}
	code, body = getPage(t, srv.URL+booking, true)
	if code != http.StatusOK {
		t.Fatalf("GET %s = %d\n%s", booking, code, body)
	}
	for _, want := range []string{"Booking #" + f.bookingID, "A*** L***", "1******0001", "a***@example.com",
		"deposit paid", "booking_confirmation_sms", "applied (paid)", `href="/ops/queues/webhooks/tasks/stripe:evt_log_applied"`, "event archived"} {
		if !strings.Contains(body, want) {
			t.Errorf("%s lacks %q", booking, want)
		}
	}
	for _, leak := range []string{"Ada", "ada@example.com", "+15551230001"} {
		if strings.Contains(body, leak) {
			t.Errorf("%s shows %q unmasked", booking, leak)
		}
	}
	if code, _ := getPage(t, srv.URL+"/ops/bookings/99999", true); code != http.StatusNotFound {
		t.Errorf("GET /ops/bookings/99999 = %d, want 404", code)
	}
	if code, _ := getPage(t, srv.URL+"/ops/", true); code != http.StatusOK {
		t.Errorf("GET /ops/ (the Asynq UI beside the pages) = %d, want 200", code)
	}
}

// chromium is Debian's headless browser.
const chromium = "/usr/bin/chromium"

// TestOpsPagesInChromium loads the booking page in headless Chromium and
// takes a screenshot: into docs/ops-booking.png and docs/ops-requests.png
// with UPDATE_SCREENSHOTS=1 (scripts/screenshot-ops.sh), else into a temp
// dir. Skipped without Chromium unless CI=true.
func TestOpsPagesInChromium(t *testing.T) {
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is missing (apt-get install -y chromium)", chromium)
		}
		t.Skipf("%s is missing (apt-get install -y chromium)", chromium)
	}
	f := newLogFixture(t)
	srv := opsPagesServer(t, f)
	// Chromium sends no credentials of its own: a front adds them, as the
	// operator's browser would after the prompt.
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.SetBasicAuth("ops", "s3cret")
		r.Host = strings.TrimPrefix(srv.URL, "http://")
		r.URL.Scheme, r.URL.Host, r.RequestURI = "http", r.Host, ""
		res, err := http.DefaultTransport.RoundTrip(r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		for k, v := range res.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	defer front.Close()
	dir := t.TempDir()
	if os.Getenv("UPDATE_SCREENSHOTS") == "1" {
		dir = filepath.Join("..", "..", "docs")
	}
	for _, shot := range []struct{ path, file string }{
		{"/ops/bookings/" + f.bookingID, "ops-booking.png"},
		{"/ops/requests", "ops-requests.png"},
	} {
		out := filepath.Join(dir, shot.file)
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		cmd := exec.CommandContext(ctx, chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
			"--disable-background-networking", "--no-first-run", "--disable-component-update", "--disable-sync",
			"--hide-scrollbars", "--user-data-dir="+t.TempDir(), "--window-size=1400,700",
			"--screenshot="+out, front.URL+shot.path)
		log, err := cmd.CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("chromium %s: %v\n%s", shot.path, err, log)
		}
		st, err := os.Stat(out)
		// A blank page compresses to a few KB.
		if err != nil || st.Size() < 15000 {
			t.Fatalf("screenshot %s: %v (size %d): blank?\n%s", out, err, sizeOf(st), log)
		}
		t.Logf("wrote %s (%d bytes)", out, st.Size())
	}
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return 0
	}
	return st.Size()
}
