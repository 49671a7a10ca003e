package config

import (
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// parser reads settings and collects one error per bad setting.
type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) fail(name, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
}

func (p *parser) str(name, def string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return def
}

// listenAddr reads a host:port to listen on (host may be empty).
func (p *parser) listenAddr(name, def string) string {
	v := p.str(name, def)
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		p.fail(name, "%q is not a listen address like :8080 or 127.0.0.1:8080", v)
		return def
	}
	return v
}

// optionalListenAddr reads a listen address that may be unset ("").
func (p *parser) optionalListenAddr(name string) string {
	if p.str(name, "") == "" {
		return ""
	}
	return p.listenAddr(name, "")
}

// stripeSecrets reads Stripe webhook signing secrets: each must be a
// whsec_... value, so that an API key (sk_..., rk_...) or a placeholder
// pasted by mistake stops the start instead of rejecting every event.
func (p *parser) stripeSecrets(name string) []string {
	secrets := p.list(name)
	for i, s := range secrets {
		if !strings.HasPrefix(s, "whsec_") || len(s) == len("whsec_") {
			p.fail(name, "entry %d of %d is not a webhook signing secret (want whsec_..., from the dashboard's endpoint or `stripe listen`; an sk_ or rk_ API key does not sign webhooks)", i+1, len(secrets))
		}
	}
	return secrets
}

// stripeAPIKey reads the Stripe API key reconcile lists events with: a
// secret (sk_...) or, better, restricted (rk_...) key. A webhook signing
// secret pasted here by mistake is named as such.
func (p *parser) stripeAPIKey(name string) string {
	v := p.str(name, "")
	switch {
	case v == "":
	case strings.HasPrefix(v, "whsec_"):
		p.fail(name, "is a webhook signing secret (whsec_...), not an API key: want a restricted key rk_... with Events: read (it belongs in STRIPE_WEBHOOK_SECRET)")
	case strings.HasPrefix(v, "pk_"):
		p.fail(name, "is a publishable key (pk_...), which cannot list events: want a restricted key rk_... with Events: read")
	case !strings.HasPrefix(v, "rk_") && !strings.HasPrefix(v, "sk_") || len(v) <= 3:
		p.fail(name, "is not a Stripe API key (want a restricted key rk_... with Events: read, or sk_...)")
	}
	return v
}

// optionalBool reads a boolean that may be unset (nil).
func (p *parser) optionalBool(name string) *bool {
	if p.str(name, "") == "" {
		return nil
	}
	b := p.boolean(name, false)
	return &b
}

// list splits a comma-separated setting, dropping blanks.
func (p *parser) list(name string) []string {
	var out []string
	for _, s := range strings.Split(p.getenv(name), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (p *parser) duration(name string, def time.Duration) time.Duration {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	switch {
	case err != nil:
		p.fail(name, "%q is not a Go duration (examples: 90s, 5m, 2h)", v)
	case d <= 0:
		p.fail(name, "%q must be positive", v)
	default:
		return d
	}
	return def
}

func (p *parser) positiveInt(name string, def int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		p.fail(name, "%q is not a positive integer", v)
		return def
	}
	return n
}

func (p *parser) nonNegativeInt(name string, def int) int {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		p.fail(name, "%q is not a non-negative integer", v)
		return def
	}
	return n
}

func (p *parser) boolean(name string, def bool) bool {
	v := p.str(name, "")
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		p.fail(name, "%q is not a boolean (true or false)", v)
		return def
	}
	return b
}

func (p *parser) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(p.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	p.fail(name, "%q is not one of %s", v, strings.Join(allowed, ", "))
	return def
}

func (p *parser) logLevel(name string) slog.Level {
	var l slog.Level
	v := p.str(name, "info")
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.fail(name, "%q is not a log level (debug, info, warn, error)", v)
		return slog.LevelInfo
	}
	return l
}

func (p *parser) email(name, def string) string {
	v := p.str(name, def)
	if v == "" {
		return ""
	}
	if _, err := mail.ParseAddress(v); err != nil {
		p.fail(name, "%q is not an email address", v)
	}
	return v
}

// parseURL parses an absolute URL whose scheme is one of schemes.
func (p *parser) parseURL(name string, schemes ...string) *url.URL {
	v := p.str(name, "")
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		p.fail(name, "is not an absolute URL with a host (want %s://host...)", schemes[0])
		return nil
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return u
		}
	}
	p.fail(name, "scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
	return nil
}

func (p *parser) httpURL(name string) string {
	u := p.parseURL(name, "https", "http")
	if u == nil {
		return ""
	}
	if u.RawQuery != "" || u.Fragment != "" {
		p.fail(name, "must not carry a query or fragment")
	}
	return u.String()
}

func (p *parser) smtpURL(name string) *url.URL {
	return p.parseURL(name, "smtp", "smtps")
}

func (p *parser) redisURL(name string) string {
	u := p.parseURL(name, "redis", "rediss", "redis-sentinel", "redis-cluster", "rediss-cluster")
	if u == nil {
		return ""
	}
	return u.String()
}

// databaseURL accepts postgres://, postgresql:// and sqlite:PATH.
func (p *parser) databaseURL(name string) string {
	v := p.str(name, "")
	switch {
	case v == "":
		return "sqlite:" + DefaultSQLitePath
	case strings.HasPrefix(v, "sqlite:"):
		if strings.TrimPrefix(strings.TrimPrefix(v, "sqlite:"), "//") == "" {
			p.fail(name, "sqlite: needs a file path, e.g. sqlite:data/gateway.db")
		}
		return v
	}
	if u := p.parseURL(name, "postgres", "postgresql", "sqlite: (sqlite:PATH)"); u != nil {
		return u.String()
	}
	return ""
}
