package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/tasks"
	"github.com/reserveeasy/gateway/verify"
)

const (
	stripeSecret = "whsec_test_secret"
	twilioToken  = "twilio_test_token"
	publicBase   = "https://api.reserveeasy.test"
)

// fixture is a gateway receiver on a real Redis database of its own.
type fixture struct {
	handler http.Handler
	srv     *httptest.Server
	redis   *queue.Redis
	metrics *metrics.Metrics
	logs    *bytes.Buffer
	now     time.Time
}

func newFixture(t testing.TB, mutate ...func(*handlers.Config, *handlers.Deps)) *fixture {
	t.Helper()
	r := redistest.Open(t, redistest.DBHandlers)
	f := &fixture{redis: r, metrics: metrics.New(), logs: &bytes.Buffer{}, now: time.Now()}
	cfg := handlers.Config{
		PublicBaseURL:   publicBase,
		StripeSecrets:   []string{"whsec_old", stripeSecret},
		StripeTolerance: 5 * time.Minute,
		TwilioTokens:    []string{twilioToken},
		MaxBodyBytes:    4096,
	}
	d := handlers.Deps{
		Queue:   queue.NewIngress(r, time.Minute, time.Hour),
		Redis:   r,
		DB:      handlers.PingerFunc(func(context.Context) error { return nil }),
		Metrics: f.metrics,
		Log:     slog.New(slog.NewTextHandler(f.logs, nil)),
		Now:     func() time.Time { return f.now },
	}
	for _, m := range mutate {
		m(&cfg, &d)
	}
	f.handler = handlers.New(cfg, d)
	f.srv = httptest.NewServer(f.handler)
	t.Cleanup(f.srv.Close)
	return f
}

// tasks lists the tasks waiting in the webhooks queue.
func (f *fixture) tasks(t *testing.T) []*asynq.TaskInfo {
	t.Helper()
	in := asynq.NewInspector(f.redis.ConnOpt)
	defer in.Close()
	ts, err := in.ListPendingTasks(tasks.QueueWebhooks)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		t.Fatalf("list tasks: %v", err)
	}
	return ts
}

func stripeEvent(id, typ string) []byte {
	return []byte(`{"id":"` + id + `","object":"event","type":"` + typ + `","api_version":"2020-08-27","created":1700000000,` +
		`"data":{"object":{"id":"pi_1","object":"payment_intent","amount":6000,"currency":"usd","metadata":{"booking_id":"42"}}}}`)
}

func (f *fixture) postStripe(t *testing.T, body []byte, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+handlers.StripePath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("Stripe-Signature", sig)
	}
	return do(t, req)
}

func twilioForm(sid, status string) url.Values {
	return url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {"AC1"}, "From": {"+15551234567"},
		"To": {"+15559876543"}, "MessageStatus": {status}, "ApiVersion": {"2010-04-01"}}
}

func (f *fixture) postTwilio(t *testing.T, path string, form url.Values, sign bool, hdr map[string]string) (int, string) {
	t.Helper()
	body := form.Encode()
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if sign {
		req.Header.Set("X-Twilio-Signature", verify.SignTwilio(twilioToken, publicBase+path, form))
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return do(t, req)
}

func do(t *testing.T, req *http.Request) (int, string) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func jsonField(t *testing.T, body, key string) any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", body, err)
	}
	return m[key]
}
