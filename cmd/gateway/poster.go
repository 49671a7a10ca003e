package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/reserveeasy/gateway/config"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/verify"
)

// poster signs webhooks the way Stripe and Twilio do and posts them to a
// running gateway (for `gateway demo` and `gateway trigger`).
type poster struct {
	target   string // where requests go
	signBase string // the base URL Twilio signatures cover
	// stripeSecret and twilioToken sign; from says where they came from.
	stripeSecret, twilioToken, from string
	publicBase                      bool // PUBLIC_BASE_URL is set
	livemode                        bool // STRIPE_LIVEMODE=true: sign live-mode events
	client                          *http.Client
}

// posterFor is the poster of a tool run with e's settings.
func posterFor(e *env, target string) (*poster, error) {
	cfg, _, err := loadConfig(e)
	if err != nil {
		return nil, err
	}
	return newPoster(cfg, target)
}

// newPoster signs with the first configured secret of each provider, else
// the ones `make run` generated; target "" is HTTP_ADDR's
// local URL (config.LocalURL), the one the banner prints.
func newPoster(cfg config.Config, target string) (*poster, error) {
	from := "STRIPE_WEBHOOK_SECRET and TWILIO_AUTH_TOKEN from the environment"
	if len(cfg.StripeWebhookSecrets) == 0 || len(cfg.TwilioAuthTokens) == 0 {
		from = "the settings, else the generated ones in " + devSecretsFile
	}
	cfg, err := toolSecrets(cfg)
	if err != nil {
		return nil, err
	}
	p := &poster{target: strings.TrimRight(target, "/"), from: from, publicBase: cfg.PublicBaseURL != "",
		livemode: cfg.StripeLivemode != nil && *cfg.StripeLivemode, client: &http.Client{Timeout: 10 * time.Second}}
	if p.target == "" {
		p.target = cfg.LocalURL(cfg.HTTPAddr) // the banner's URL
	}
	p.signBase = p.target
	if cfg.PublicBaseURL != "" {
		p.signBase = cfg.PublicBaseURL
	}
	p.stripeSecret, p.twilioToken = first(cfg.StripeWebhookSecrets), first(cfg.TwilioAuthTokens)
	if p.stripeSecret == "" || p.twilioToken == "" {
		return nil, fmt.Errorf("no STRIPE_WEBHOOK_SECRET or TWILIO_AUTH_TOKEN to sign with: set the gateway's, or start `make run` first (it generates %s)", devSecretsFile)
	}
	return p, nil
}

// answer is the gateway's answer to one webhook.
type answer struct {
	code int
	body string
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.code, a.body) }

// stripe posts a signed Stripe event of type typ with data.object object.
func (p *poster) stripe(eventID, typ, object string) (answer, error) {
	body := []byte(fmt.Sprintf(`{"id":%q,"object":"event","type":%q,"api_version":"2023-10-16","created":%d,"livemode":%v,"data":{"object":%s}}`,
		eventID, typ, time.Now().Unix(), p.livemode, object))
	req, _ := http.NewRequest(http.MethodPost, p.target+handlers.StripePath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", verify.SignStripe(body, p.stripeSecret, time.Now()))
	return p.do(req)
}

// twilio posts a signed SMS status callback; form may be nil for a
// callback with only the signature (the preflight).
func (p *poster) twilio(form url.Values) (answer, error) {
	req, _ := http.NewRequest(http.MethodPost, p.target+handlers.TwilioPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", verify.SignTwilio(p.twilioToken, p.signBase+handlers.TwilioPath, form))
	return p.do(req)
}

// smsStatus is the form Twilio posts for one status of message sid.
func smsStatus(sid, status, to, errorCode string) url.Values {
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {"ACdemo"}, "From": {"+15550000000"},
		"To": {to}, "MessageStatus": {status}, "ApiVersion": {"2010-04-01"}}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	return form
}

func (p *poster) do(req *http.Request) (answer, error) {
	resp, err := p.client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("post to %s: %w (is the gateway running there? --url sets it)", p.target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return answer{resp.StatusCode, strings.TrimSpace(string(b))}, nil
}

// refused explains a 4xx: which setting differs between this tool and the
// gateway. nil for any other answer.
func (p *poster) refused(provider string, a answer) error {
	if a.code < 400 || a.code >= 500 {
		return nil
	}
	switch {
	case provider == "stripe" && strings.Contains(a.body, "signature"):
		return fmt.Errorf("the gateway refused the Stripe signature (%s): its STRIPE_WEBHOOK_SECRET differs from the one signing here (%s); give both the same", a, p.from)
	case provider == "twilio" && a.code == http.StatusForbidden:
		hint := "PUBLIC_BASE_URL is unset here: set it as the gateway has it, or pass the URL the gateway is reached at with --url"
		if p.publicBase {
			hint = "check that PUBLIC_BASE_URL is the same here and on the gateway"
		}
		return fmt.Errorf("the gateway refused the Twilio signature (%s) over %s: its TWILIO_AUTH_TOKEN differs from the one signing here (%s), or it checks another URL; %s",
			a, p.signBase+handlers.TwilioPath, p.from, hint)
	}
	return fmt.Errorf("the gateway refused the %s webhook: %s", provider, a)
}

// preflight checks, before anything is created, that the gateway accepts
// this tool's signatures: a signed Stripe event of a type it ignores (200,
// nothing queued) and a signed Twilio callback without a status (400 after
// the signature passed, nothing queued).
func (p *poster) preflight(providers ...string) error {
	for _, provider := range providers {
		var a answer
		var err error
		switch provider {
		case "stripe":
			a, err = p.stripe("evt_preflight_"+randomHex(6), "gateway.preflight", `{"object":"preflight"}`)
		case "twilio":
			a, err = p.twilio(url.Values{"MessageSid": {"SMpreflight"}})
			if err == nil && a.code == http.StatusBadRequest && strings.Contains(a.body, "required") {
				continue // signature accepted, the form refused as intended
			}
		}
		if err != nil {
			return err
		}
		if err := p.refused(provider, a); err != nil {
			return err
		}
		if a.code != http.StatusOK {
			return fmt.Errorf("the gateway at %s answered %s to a signed %s test request", p.target, a, provider)
		}
	}
	return nil
}
