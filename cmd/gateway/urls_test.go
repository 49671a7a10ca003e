package main

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/config"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/verify"
)

var twilioBannerLine = regexp.MustCompile(`(?m)^Twilio SMS status webhook: (\S+)$`)

// TestBannerTwilioURLIsTheCheckedOne: a callback signed for the URL the
// banner prints and posted to it is accepted (before, the banner said
// localhost while the gateway listened on, and checked, 127.0.0.1); one
// signed for another host is refused with a log line naming the URL
// checked and the hint.
func TestBannerTwilioURLIsTheCheckedOne(t *testing.T) {
	embeddedDefaults(t)
	const token = "tw_banner_token"
	g := startGateway(t, []string{"serve"}, map[string]string{"DATABASE_URL": sqliteURL(t), "TWILIO_AUTH_TOKEN": token})
	m := twilioBannerLine.FindStringSubmatch(g.stdout.String())
	if m == nil {
		t.Fatalf("banner has no Twilio URL:\n%s", g.stdout)
	}
	bannerURL := m[1]
	if want := g.url + handlers.TwilioPath; bannerURL != want {
		t.Errorf("banner's Twilio URL = %s, want the listener's %s", bannerURL, want)
	}
	post := func(signedFor string) (int, string) {
		form := url.Values{"MessageSid": {"SMbanner"}, "MessageStatus": {"sent"}}
		req, _ := http.NewRequest(http.MethodPost, bannerURL, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", verify.SignTwilio(token, signedFor, form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := post(bannerURL); code != http.StatusOK {
		t.Errorf("callback signed for the banner's URL: %d %s, want 200", code, body)
	}
	other := strings.Replace(bannerURL, "127.0.0.1", "localhost", 1)
	if code, body := post(other); code != http.StatusForbidden {
		t.Errorf("callback signed for %s: %d %s, want 403", other, code, body)
	}
	logs := g.stderr.String()
	for _, want := range []string{"url=" + bannerURL, "public_base_url_set=false", "hint="} {
		if !strings.Contains(logs, want) {
			t.Errorf("403 log does not say %q:\n%s", want, logs)
		}
	}
}

// TestStatusCallbackIsBannerURL: the StatusCallback the worker gives
// Twilio is the URL the banner prints, for every kind of listen address
// and with PUBLIC_BASE_URL.
func TestStatusCallbackIsBannerURL(t *testing.T) {
	for _, tt := range []struct {
		name, addr, public, want string
	}{
		{"loopback", "127.0.0.1:8080", "", "http://127.0.0.1:8080"},
		{"every interface", "[::]:8080", "", "http://localhost:8080"},
		{"every IPv4 interface", "0.0.0.0:8080", "", "http://localhost:8080"},
		{"public base", "127.0.0.1:8080", "https://hooks.example.com", "https://hooks.example.com"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{"PUBLIC_BASE_URL": tt.public, "TWILIO_AUTH_TOKEN": "tok",
				"TWILIO_ACCOUNT_SID": "AC123", "TWILIO_FROM_NUMBER": "+15550001111"}
			cfg, err := config.Load(gatewayEnv(env))
			if err != nil {
				t.Fatal(err)
			}
			a := &app{cfg: cfg, log: slog.New(slog.DiscardHandler), redis: &queue.Redis{}}
			d := a.jobDeps(metrics.New(), nil, tt.addr)
			if want := tt.want + handlers.TwilioPath; d.StatusCallbackURL != want {
				t.Errorf("StatusCallbackURL = %s, want %s", d.StatusCallbackURL, want)
			}
			var banner bytes.Buffer
			a.printWebhookURLs(&banner, tt.addr)
			if !strings.Contains(banner.String(), "Twilio SMS status webhook: "+d.StatusCallbackURL+"\n") {
				t.Errorf("banner does not print the StatusCallback %s:\n%s", d.StatusCallbackURL, banner.String())
			}
		})
	}
}
