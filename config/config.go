// Package config reads the gateway's settings from the environment,
// validates every one of them and reports all problems at once.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strings"
	"time"
)

// Defaults for the settings that have one.
const (
	DefaultHTTPAddr          = ":8080"
	DefaultEmailFrom         = "bookings@reserveeasy.local"
	DefaultStripeTolerance   = 5 * time.Minute
	DefaultPaymentHold       = 2 * time.Hour
	DefaultDedupeTTL         = 168 * time.Hour
	DefaultMaxBodyBytes      = 1 << 20
	DefaultWorkerConcurrency = 10
	DefaultShutdownTimeout   = 25 * time.Second
	// DefaultBrandName is what the messages sign with when BRAND_NAME is unset.
	DefaultBrandName = "ReserveEasy"
	// DefaultSQLitePath is where the database lives when DATABASE_URL is unset.
	DefaultSQLitePath = "data/gateway.db"
)

// Config is every setting of the gateway. Build it with Load.
type Config struct {
	HTTPAddr string
	// OpsAddr is a second listen address for /ops/ and /metrics; "" serves
	// them on HTTPAddr.
	OpsAddr       string
	TLSCertFile   string
	TLSKeyFile    string
	PublicBaseURL string // without a trailing slash; "" when unset

	// RedisURL is "" for the embedded in-process Redis.
	RedisURL string
	// RedisMinReplicas is how many Redis replicas must have a webhook's task
	// (WAIT) before it is answered 200; 0 does not wait.
	RedisMinReplicas int
	// DatabaseURL is postgres://... or sqlite:PATH; Load fills in the SQLite
	// default when DATABASE_URL is unset.
	DatabaseURL string

	StripeWebhookSecrets []string
	StripeTolerance      time.Duration
	// StripeLivemode is nil to apply events of both modes, else the only
	// mode applied (true: live, false: test).
	StripeLivemode   *bool
	TwilioAuthTokens []string
	TwilioAccountSID string
	TwilioFromNumber string
	TwilioAPIBaseURL string

	// StripeAPIKey is the restricted key (Events: read) gateway reconcile
	// lists events with; "" leaves Stripe unreconciled.
	StripeAPIKey string
	// StripeAPIBaseURL is where the Stripe API client sends requests; ""
	// is Stripe's own API.
	StripeAPIBaseURL string
	// ReconcileInterval runs the reconciliation inside workers this often;
	// 0 is off.
	ReconcileInterval time.Duration

	SMTPURL      *url.URL // nil: emails are logged, not sent
	EmailFrom    string
	SupportEmail string

	// TemplatesDir holds message templates replacing the embedded ones
	// (notifications.TemplateFiles); "" uses the embedded ones only.
	TemplatesDir string
	// BrandName is the brand the messages show ({{.Brand}}).
	BrandName string

	PaymentHold  time.Duration
	DedupeTTL    time.Duration
	MaxBodyBytes int64

	OpsUsername string
	OpsPassword string
	OpsReadOnly bool
	// OpsPprof serves Go's profiler under /ops/debug/pprof/, behind the ops
	// auth.
	OpsPprof bool

	WorkerConcurrency int
	ShutdownTimeout   time.Duration
	LogLevel          slog.Level
	LogFormat         string // "text" or "json"
	Migrate           bool
}

// EmbeddedRedis reports whether the gateway runs its own in-process Redis.
func (c Config) EmbeddedRedis() bool { return c.RedisURL == "" }

// LivemodeString describes StripeLivemode: "live", "test" or "both".
func (c Config) LivemodeString() string {
	switch {
	case c.StripeLivemode == nil:
		return "both"
	case *c.StripeLivemode:
		return "live"
	}
	return "test"
}

// SendsSMS reports whether Twilio credentials for sending SMS are set.
func (c Config) SendsSMS() bool {
	return c.TwilioAccountSID != "" && len(c.TwilioAuthTokens) > 0 && c.TwilioFromNumber != ""
}

// Load reads every setting through getenv (os.Getenv in production) and
// returns all problems joined, one per setting.
func Load(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		HTTPAddr:             p.listenAddr("HTTP_ADDR", DefaultHTTPAddr),
		OpsAddr:              p.optionalListenAddr("OPS_ADDR"),
		TLSCertFile:          p.str("TLS_CERT_FILE", ""),
		TLSKeyFile:           p.str("TLS_KEY_FILE", ""),
		PublicBaseURL:        strings.TrimRight(p.httpURL("PUBLIC_BASE_URL"), "/"),
		RedisURL:             p.redisURL("REDIS_URL"),
		RedisMinReplicas:     p.nonNegativeInt("REDIS_MIN_REPLICAS", 0),
		DatabaseURL:          p.databaseURL("DATABASE_URL"),
		StripeWebhookSecrets: p.stripeSecrets("STRIPE_WEBHOOK_SECRET"),
		StripeTolerance:      p.duration("STRIPE_TOLERANCE", DefaultStripeTolerance),
		StripeLivemode:       p.optionalBool("STRIPE_LIVEMODE"),
		TwilioAuthTokens:     p.list("TWILIO_AUTH_TOKEN"),
		TwilioAccountSID:     p.str("TWILIO_ACCOUNT_SID", ""),
		TwilioFromNumber:     p.str("TWILIO_FROM_NUMBER", ""),
		TwilioAPIBaseURL:     strings.TrimRight(p.httpURL("TWILIO_API_BASE_URL"), "/"),
		StripeAPIKey:         p.stripeAPIKey("STRIPE_API_KEY"),
		StripeAPIBaseURL:     strings.TrimRight(p.httpURL("STRIPE_API_BASE_URL"), "/"),
		ReconcileInterval:    p.duration("RECONCILE_INTERVAL", 0),
		SMTPURL:              p.smtpURL("SMTP_URL"),
		EmailFrom:            p.email("EMAIL_FROM", DefaultEmailFrom),
		SupportEmail:         p.email("SUPPORT_EMAIL", ""),
		TemplatesDir:         p.str("TEMPLATES_DIR", ""),
		BrandName:            p.str("BRAND_NAME", DefaultBrandName),
		PaymentHold:          p.duration("PAYMENT_HOLD", DefaultPaymentHold),
		DedupeTTL:            p.duration("DEDUPE_TTL", DefaultDedupeTTL),
		MaxBodyBytes:         int64(p.positiveInt("MAX_BODY_BYTES", DefaultMaxBodyBytes)),
		OpsUsername:          p.str("OPS_USERNAME", ""),
		OpsPassword:          p.str("OPS_PASSWORD", ""),
		OpsReadOnly:          p.boolean("OPS_READONLY", false),
		OpsPprof:             p.boolean("OPS_PPROF", false),
		WorkerConcurrency:    p.positiveInt("WORKER_CONCURRENCY", DefaultWorkerConcurrency),
		ShutdownTimeout:      p.duration("SHUTDOWN_TIMEOUT", DefaultShutdownTimeout),
		LogLevel:             p.logLevel("LOG_LEVEL"),
		LogFormat:            p.oneOf("LOG_FORMAT", "text", "text", "json"),
		Migrate:              p.boolean("MIGRATE", true),
	}
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		p.fail("TLS_CERT_FILE", "TLS_CERT_FILE and TLS_KEY_FILE must be set together")
	}
	if (c.OpsUsername == "") != (c.OpsPassword == "") {
		p.fail("OPS_USERNAME", "OPS_USERNAME and OPS_PASSWORD must be set together")
	}
	if c.OpsAddr != "" && c.OpsAddr == c.HTTPAddr && !strings.HasSuffix(c.OpsAddr, ":0") {
		p.fail("OPS_ADDR", "%q is HTTP_ADDR too: give the ops listener an address of its own, or leave OPS_ADDR unset", c.OpsAddr)
	}
	if c.RedisMinReplicas > 0 && c.EmbeddedRedis() {
		p.fail("REDIS_MIN_REPLICAS", "%d needs REDIS_URL: the embedded Redis has no replicas and no WAIT", c.RedisMinReplicas)
	}
	if c.TwilioAccountSID != "" && !strings.HasPrefix(c.TwilioAccountSID, "AC") {
		p.fail("TWILIO_ACCOUNT_SID", "must start with AC")
	}
	return c, errors.Join(p.errs...)
}

// String describes c with every secret redacted: KEY=value pairs, the
// fields of LogValue.
func (c Config) String() string {
	var b strings.Builder
	for _, a := range c.fields() {
		fmt.Fprintf(&b, "%s=%v ", a.Key, a.Value)
	}
	return strings.TrimSpace(b.String())
}

// LogValue logs c as a group with one field per setting, every secret
// redacted (slog.LogValuer): a JSON log carries an object, not one string.
func (c Config) LogValue() slog.Value { return slog.GroupValue(c.fields()...) }

// fields are the settings, named as in the environment, secrets redacted.
func (c Config) fields() []slog.Attr {
	smtp := ""
	if c.SMTPURL != nil {
		smtp = c.SMTPURL.Redacted()
	}
	return []slog.Attr{
		slog.String("HTTP_ADDR", c.HTTPAddr),
		slog.String("OPS_ADDR", c.OpsAddr),
		slog.Bool("TLS", c.TLSCertFile != ""),
		slog.String("PUBLIC_BASE_URL", c.PublicBaseURL),
		slog.String("REDIS_URL", redactURL(c.RedisURL, "(embedded)")),
		slog.Int("REDIS_MIN_REPLICAS", c.RedisMinReplicas),
		slog.String("DATABASE_URL", redactURL(c.DatabaseURL, "")),
		slog.String("STRIPE_WEBHOOK_SECRET", redactList(c.StripeWebhookSecrets)),
		slog.Duration("STRIPE_TOLERANCE", c.StripeTolerance),
		slog.String("STRIPE_LIVEMODE", c.LivemodeString()),
		slog.String("TWILIO_AUTH_TOKEN", redactList(c.TwilioAuthTokens)),
		slog.String("TWILIO_ACCOUNT_SID", c.TwilioAccountSID),
		slog.String("TWILIO_FROM_NUMBER", c.TwilioFromNumber),
		slog.String("TWILIO_API_BASE_URL", c.TwilioAPIBaseURL),
		slog.String("STRIPE_API_KEY", redactList([]string{c.StripeAPIKey})),
		slog.String("STRIPE_API_BASE_URL", c.StripeAPIBaseURL),
		slog.String("RECONCILE_INTERVAL", orOff(c.ReconcileInterval)),
		slog.String("SMTP_URL", smtp),
		slog.String("EMAIL_FROM", c.EmailFrom),
		slog.String("SUPPORT_EMAIL", c.SupportEmail),
		slog.String("TEMPLATES_DIR", c.TemplatesDir),
		slog.String("BRAND_NAME", c.BrandName),
		slog.Duration("PAYMENT_HOLD", c.PaymentHold),
		slog.Duration("DEDUPE_TTL", c.DedupeTTL),
		slog.Int64("MAX_BODY_BYTES", c.MaxBodyBytes),
		slog.String("OPS_USERNAME", c.OpsUsername),
		slog.String("OPS_PASSWORD", redactList([]string{c.OpsPassword})),
		slog.Bool("OPS_READONLY", c.OpsReadOnly),
		slog.Bool("OPS_PPROF", c.OpsPprof),
		slog.Int("WORKER_CONCURRENCY", c.WorkerConcurrency),
		slog.Duration("SHUTDOWN_TIMEOUT", c.ShutdownTimeout),
		slog.String("LOG_LEVEL", c.LogLevel.String()),
		slog.String("LOG_FORMAT", c.LogFormat),
		slog.Bool("MIGRATE", c.Migrate),
	}
}

// orOff describes an optional interval: "off" when zero.
func orOff(d time.Duration) string {
	if d == 0 {
		return "off"
	}
	return d.String()
}

// redactList says how many secrets are set without showing any.
func redactList(xs []string) string {
	n := 0
	for _, x := range xs {
		if x != "" {
			n++
		}
	}
	if n == 0 {
		return "(unset)"
	}
	return fmt.Sprintf("(%d set, redacted)", n)
}

// redactURL hides the password of a URL.
func redactURL(s, empty string) string {
	if s == "" {
		return empty
	}
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// LocalURL is the base URL (scheme://host:port, no trailing slash) of a
// listener on addr as seen from this machine: addr is HTTP_ADDR or the
// address a listener is bound to; an unspecified host (":8080",
// "0.0.0.0:8080", "[::]:8080") is localhost. The banner, the SMS status
// callback without PUBLIC_BASE_URL and the tools (`gateway demo`,
// `trigger`) all use it, so that they name one URL.
func (c Config) LocalURL(addr string) string {
	scheme := "http"
	if c.TLSCertFile != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		host, port = "", strings.TrimPrefix(DefaultHTTPAddr, ":")
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// WebhookBaseURL is the base URL the providers call and sign, given the
// local listener address addr: PUBLIC_BASE_URL when set, else LocalURL(addr).
func (c Config) WebhookBaseURL(addr string) string {
	if c.PublicBaseURL != "" {
		return c.PublicBaseURL
	}
	return c.LocalURL(addr)
}
