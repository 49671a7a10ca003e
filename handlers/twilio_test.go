package handlers_test

import (
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/verify"
)

func sortStrings(xs []string) []string {
	sort.Strings(xs)
	return xs
}

func TestTwilioStatuses(t *testing.T) {
	f := newFixture(t)
	p := handlers.TwilioPath
	noStatus := twilioForm("SM3", "")
	noStatus.Del("MessageStatus")
	big := twilioForm("SM4", "sent")
	big.Set("Body", strings.Repeat("x", 5000))
	tests := []struct {
		name     string
		path     string
		form     url.Values
		sign     bool
		hdr      map[string]string
		wantCode int
		wantBody string
	}{
		{"accepted", p, twilioForm("SM1", "delivered"), true, nil, 200, `{"status":"received"}`},
		{"duplicate", p, twilioForm("SM1", "delivered"), true, nil, 200, `{"status":"received"}`},
		{"next status of same message", p, twilioForm("SM1", "sent"), true, nil, 200, `{"status":"received"}`},
		{"idempotency token", p, twilioForm("SM2", "sent"), true, map[string]string{"I-Twilio-Idempotency-Token": "tok-1"}, 200, `{"status":"received"}`},
		{"same token again", p, twilioForm("SM2", "sent"), true, map[string]string{"I-Twilio-Idempotency-Token": "tok-1"}, 200, `{"status":"received"}`},
		{"trailing slash is not redirected", p + "/", twilioForm("SM5", "queued"), true, nil, 200, `{"status":"received"}`},
		{"missing signature", p, twilioForm("SM1", "failed"), false, nil, 403, `{"error":"missing or unverifiable signature"}`},
		{"bad signature", p, twilioForm("SM1", "failed"), false, map[string]string{"X-Twilio-Signature": "bm9wZQ=="}, 403, `{"error":"invalid signature"}`},
		{"missing MessageStatus", p, noStatus, true, nil, 400, `{"error":"MessageSid and MessageStatus are required"}`},
		{"too large", p, big, true, nil, 413, `{"error":"body too large"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := f.postTwilio(t, tt.path, tt.form, tt.sign, tt.hdr)
			if code != tt.wantCode || body != tt.wantBody {
				t.Fatalf("got %d %s, want %d %s", code, body, tt.wantCode, tt.wantBody)
			}
		})
	}
	var ids []string
	for _, ti := range f.tasks(t) {
		ids = append(ids, ti.ID)
	}
	want := []string{"twilio:SM1:delivered", "twilio:SM1:sent", "twilio:SM2:sent", "twilio:SM5:queued"}
	if diff := cmp.Diff(want, sortStrings(ids)); diff != "" {
		t.Errorf("queued tasks (-want +got):\n%s", diff)
	}
}

// TestTwilioMalformedForm: a genuine request whose form cannot be read is
// 400; a forged one is 403 whatever its body.
func TestTwilioMalformedForm(t *testing.T) {
	f := newFixture(t)
	for _, tt := range []struct {
		name, sig string
		want      int
	}{
		{"signed", verify.SignTwilio(twilioToken, publicBase+handlers.TwilioPath, nil), http.StatusBadRequest},
		{"forged", "eA==", http.StatusForbidden},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+handlers.TwilioPath, strings.NewReader("MessageSid=%zz"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", tt.sig)
			if code, body := do(t, req); code != tt.want {
				t.Fatalf("got %d %s, want %d", code, body, tt.want)
			}
		})
	}
}

func TestTwilioURLFromRequestWithoutPublicBase(t *testing.T) {
	f := newFixture(t, func(c *handlers.Config, _ *handlers.Deps) { c.PublicBaseURL = "" })
	form := twilioForm("SM9", "sent")
	req, _ := http.NewRequest(http.MethodPost, f.srv.URL+handlers.TwilioPath+"?tenant=a", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", signFor(f.srv.URL+handlers.TwilioPath+"?tenant=a", form))
	if code, body := do(t, req); code != http.StatusOK {
		t.Fatalf("got %d %s, want 200", code, body)
	}
}

func TestTwilioNoTokenRejectsAndLogs(t *testing.T) {
	f := newFixture(t, func(c *handlers.Config, _ *handlers.Deps) { c.TwilioTokens = nil })
	if code, _ := f.postTwilio(t, handlers.TwilioPath, twilioForm("SM1", "sent"), true, nil); code != http.StatusForbidden {
		t.Fatalf("status = %d, want 403", code)
	}
	if !strings.Contains(f.logs.String(), "TWILIO_AUTH_TOKEN is not set") {
		t.Errorf("log does not name the missing setting:\n%s", f.logs)
	}
}

// TestTwilioReplayWithFreshTokens: I-Twilio-Idempotency-Token is not
// signed, so a captured callback replayed with a fresh token each time is
// a duplicate of the signed MessageSid + MessageStatus: one task, whatever
// the tokens. Twilio's own retry (same token) is a duplicate too, and the
// next status of the message is a new callback.
func TestTwilioReplayWithFreshTokens(t *testing.T) {
	f := newFixture(t)
	// outcome names the outcome counted since its last call.
	counted := map[string]float64{}
	outcome := func() string {
		var out []string
		for _, o := range []string{metrics.OutcomeAccepted, metrics.OutcomeDuplicate} {
			v := testutil.ToFloat64(f.metrics.Webhooks.WithLabelValues("twilio", o))
			if v > counted[o] {
				out = append(out, o)
			}
			counted[o] = v
		}
		return strings.Join(out, "+")
	}
	posts := []struct {
		form  url.Values
		token string
	}{
		{twilioForm("SMR", "delivered"), "tok-a"},
		{twilioForm("SMR", "delivered"), "tok-b"},
		{twilioForm("SMR", "delivered"), "tok-c"},
		{twilioForm("SMR", "delivered"), "tok-a"}, // Twilio retrying the first
		{twilioForm("SMR", "delivered"), ""},      // no token at all
		{twilioForm("SMR", "sent"), "tok-d"},
		{twilioForm("SMR", "sent"), "tok-d"},
	}
	var got []string
	for _, p := range posts {
		hdr := map[string]string{}
		if p.token != "" {
			hdr["I-Twilio-Idempotency-Token"] = p.token
		}
		if code, body := f.postTwilio(t, handlers.TwilioPath, p.form, true, hdr); code != http.StatusOK {
			t.Fatalf("got %d %s, want 200", code, body)
		}
		got = append(got, outcome())
	}
	want := []string{"accepted", "duplicate", "duplicate", "duplicate", "duplicate", "accepted", "duplicate"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("outcomes (-want +got):\n%s", diff)
	}
	var ids []string
	for _, ti := range f.tasks(t) {
		ids = append(ids, ti.ID)
	}
	if diff := cmp.Diff([]string{"twilio:SMR:delivered", "twilio:SMR:sent"}, sortStrings(ids)); diff != "" {
		t.Errorf("queued tasks (-want +got):\n%s", diff)
	}
}

// TestTwilioSignatureFailureExplainsItself: a 403 logs the URL checked,
// whether PUBLIC_BASE_URL is set and a hint fitting the case, never the
// token or the signature; the answer stays the short public one.
func TestTwilioSignatureFailureExplainsItself(t *testing.T) {
	for _, tt := range []struct {
		name       string
		publicBase string
		query      string
		want       []string
	}{
		{"with PUBLIC_BASE_URL", publicBase, "", []string{
			"url=" + publicBase + handlers.TwilioPath + " ", "public_base_url_set=true", "PUBLIC_BASE_URL followed by the path"}},
		{"without PUBLIC_BASE_URL", "", "?tenant=a", []string{
			"public_base_url_set=false", "PUBLIC_BASE_URL is unset", "set PUBLIC_BASE_URL to the base URL Twilio calls"}},
		{"user info redacted", "https://user:pw@hooks.example.com", "", []string{
			"url=https://user:xxxxx@hooks.example.com" + handlers.TwilioPath + " "}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, func(c *handlers.Config, _ *handlers.Deps) { c.PublicBaseURL = tt.publicBase })
			form := twilioForm("SM1", "sent")
			req, _ := http.NewRequest(http.MethodPost, f.srv.URL+handlers.TwilioPath+tt.query, strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("X-Twilio-Signature", "bm9wZQ==")
			if code, body := do(t, req); code != http.StatusForbidden || body != `{"error":"invalid signature"}` {
				t.Fatalf("got %d %s, want 403 invalid signature", code, body)
			}
			logs := f.logs.String()
			if tt.publicBase == "" {
				tt.want = append(tt.want, `url="`+f.srv.URL+handlers.TwilioPath+tt.query+`"`) // quoted: it has a ?
			}
			for _, w := range tt.want {
				if !strings.Contains(logs, w) {
					t.Errorf("log does not say %q:\n%s", w, logs)
				}
			}
			for _, secret := range []string{twilioToken, "bm9wZQ==", ":pw@"} {
				if strings.Contains(logs, secret) {
					t.Errorf("log carries %q:\n%s", secret, logs)
				}
			}
		})
	}
}
