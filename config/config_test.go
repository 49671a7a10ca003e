package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		HTTPAddr:          ":8080",
		DatabaseURL:       "sqlite:data/gateway.db",
		StripeTolerance:   5 * time.Minute,
		EmailFrom:         "bookings@reserveeasy.local",
		BrandName:         "ReserveEasy",
		PaymentHold:       2 * time.Hour,
		DedupeTTL:         168 * time.Hour,
		MaxBodyBytes:      1048576,
		WorkerConcurrency: 10,
		ShutdownTimeout:   25 * time.Second,
		LogLevel:          slog.LevelInfo,
		LogFormat:         "text",
		Migrate:           true,
	}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if !c.EmbeddedRedis() || c.SendsSMS() {
		t.Errorf("EmbeddedRedis=%v SendsSMS=%v", c.EmbeddedRedis(), c.SendsSMS())
	}
}

func TestLoadValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"PUBLIC_BASE_URL":       "https://api.reserveeasy.com/",
		"REDIS_URL":             "redis://:pw@10.0.0.1:6379/2",
		"DATABASE_URL":          "postgres://u:p@db:5432/gw?sslmode=disable",
		"STRIPE_WEBHOOK_SECRET": "whsec_a, whsec_b,,",
		"TWILIO_AUTH_TOKEN":     "tok1",
		"TWILIO_ACCOUNT_SID":    "AC123",
		"TWILIO_FROM_NUMBER":    "+15550001111",
		"SMTP_URL":              "smtp://user:secret@mail:1025",
		"PAYMENT_HOLD":          "90s",
		"MAX_BODY_BYTES":        "2048",
		"LOG_LEVEL":             "debug",
		"LOG_FORMAT":            "JSON",
		"MIGRATE":               "false",
		"OPS_USERNAME":          "ops",
		"OPS_PASSWORD":          "hunter2",
		"REDIS_MIN_REPLICAS":    "2",
		"STRIPE_API_KEY":        "rk_test_reconcile",
		"STRIPE_API_BASE_URL":   "http://127.0.0.1:12111/",
		"RECONCILE_INTERVAL":    "15m",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"whsec_a", "whsec_b"}, c.StripeWebhookSecrets); diff != "" {
		t.Errorf("secrets (-want +got):\n%s", diff)
	}
	if c.PublicBaseURL != "https://api.reserveeasy.com" || c.PaymentHold != 90*time.Second ||
		c.MaxBodyBytes != 2048 || c.LogLevel != slog.LevelDebug || c.LogFormat != "json" ||
		c.Migrate || !c.SendsSMS() || c.SMTPURL.Host != "mail:1025" || c.EmbeddedRedis() || c.RedisMinReplicas != 2 ||
		c.StripeAPIKey != "rk_test_reconcile" || c.StripeAPIBaseURL != "http://127.0.0.1:12111" || c.ReconcileInterval != 15*time.Minute {
		t.Errorf("unexpected config: %+v", c)
	}
	s := c.String()
	for _, secret := range []string{"whsec_a", "whsec_b", "tok1", "secret", "hunter2", ":pw@", "rk_test_reconcile"} {
		if strings.Contains(s, secret) {
			t.Errorf("String() leaks %q: %s", secret, s)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"duration", "PAYMENT_HOLD", "2 hours", "PAYMENT_HOLD: \"2 hours\" is not a Go duration"},
		{"negative duration", "DEDUPE_TTL", "-1h", "DEDUPE_TTL: \"-1h\" must be positive"},
		{"tolerance", "STRIPE_TOLERANCE", "abc", "STRIPE_TOLERANCE:"},
		{"int", "MAX_BODY_BYTES", "1MB", "MAX_BODY_BYTES: \"1MB\" is not a positive integer"},
		{"concurrency", "WORKER_CONCURRENCY", "0", "WORKER_CONCURRENCY:"},
		{"bool", "MIGRATE", "maybe", "MIGRATE: \"maybe\" is not a boolean"},
		{"redis scheme", "REDIS_URL", "http://localhost:6379", "REDIS_URL: scheme \"http\""},
		{"redis no host", "REDIS_URL", "localhost:6379", "REDIS_URL:"},
		{"database", "DATABASE_URL", "mysql://db/x", "DATABASE_URL: scheme \"mysql\""},
		{"sqlite path", "DATABASE_URL", "sqlite:", "DATABASE_URL: sqlite: needs a file path"},
		{"public url", "PUBLIC_BASE_URL", "api.example.com", "PUBLIC_BASE_URL:"},
		{"smtp", "SMTP_URL", "mail:25", "SMTP_URL:"},
		{"email", "EMAIL_FROM", "not-an-address", "EMAIL_FROM:"},
		{"log level", "LOG_LEVEL", "loud", "LOG_LEVEL:"},
		{"log format", "LOG_FORMAT", "xml", "LOG_FORMAT:"},
		{"tls pair", "TLS_CERT_FILE", "cert.pem", "TLS_CERT_FILE and TLS_KEY_FILE"},
		{"ops pair", "OPS_USERNAME", "ops", "OPS_USERNAME and OPS_PASSWORD"},
		{"account sid", "TWILIO_ACCOUNT_SID", "XX1", "TWILIO_ACCOUNT_SID: must start with AC"},
		{"listen address", "HTTP_ADDR", "8080", "HTTP_ADDR: \"8080\" is not a listen address"},
		{"ops address", "OPS_ADDR", "9090", "OPS_ADDR: \"9090\" is not a listen address"},
		{"ops address is the webhook one", "OPS_ADDR", ":8080", "OPS_ADDR: \":8080\" is HTTP_ADDR too"},
		{"stripe api key as secret", "STRIPE_WEBHOOK_SECRET", "sk_test_123", "STRIPE_WEBHOOK_SECRET: entry 1 of 1 is not a webhook signing secret"},
		{"one bad secret of two", "STRIPE_WEBHOOK_SECRET", "whsec_good,rk_live_9", "STRIPE_WEBHOOK_SECRET: entry 2 of 2"},
		{"bare prefix", "STRIPE_WEBHOOK_SECRET", "whsec_", "STRIPE_WEBHOOK_SECRET: entry 1 of 1"},
		{"livemode", "STRIPE_LIVEMODE", "live", "STRIPE_LIVEMODE: \"live\" is not a boolean"},
		{"min replicas", "REDIS_MIN_REPLICAS", "one", "REDIS_MIN_REPLICAS: \"one\" is not a non-negative integer"},
		{"negative min replicas", "REDIS_MIN_REPLICAS", "-1", "REDIS_MIN_REPLICAS: \"-1\" is not a non-negative integer"},
		{"webhook secret as api key", "STRIPE_API_KEY", "whsec_abc", "STRIPE_API_KEY: is a webhook signing secret (whsec_...), not an API key"},
		{"publishable key", "STRIPE_API_KEY", "pk_test_1", "STRIPE_API_KEY: is a publishable key"},
		{"not a key", "STRIPE_API_KEY", "hello", "STRIPE_API_KEY: is not a Stripe API key"},
		{"stripe api url", "STRIPE_API_BASE_URL", "localhost:12111", "STRIPE_API_BASE_URL:"},
		{"reconcile interval", "RECONCILE_INTERVAL", "hourly", "RECONCILE_INTERVAL: \"hourly\" is not a Go duration"},
		{"min replicas on the embedded redis", "REDIS_MIN_REPLICAS", "1", "REDIS_MIN_REPLICAS: 1 needs REDIS_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(env(map[string]string{tt.key: tt.value}))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
			if n := strings.Count(err.Error(), "\n") + 1; n != 1 {
				t.Errorf("got %d lines, want 1: %v", n, err)
			}
			if tt.key == "STRIPE_WEBHOOK_SECRET" && len(tt.value) > len("whsec_") && strings.Contains(err.Error(), tt.value) {
				t.Errorf("the error quotes the secret: %v", err)
			}
		})
	}
}

func TestStripeLivemode(t *testing.T) {
	for _, tt := range []struct{ value, want string }{{"", "both"}, {"true", "live"}, {"false", "test"}, {"0", "test"}} {
		c, err := Load(env(map[string]string{"STRIPE_LIVEMODE": tt.value}))
		if err != nil {
			t.Fatalf("STRIPE_LIVEMODE=%q: %v", tt.value, err)
		}
		if got := c.LivemodeString(); got != tt.want {
			t.Errorf("STRIPE_LIVEMODE=%q applies %s, want %s", tt.value, got, tt.want)
		}
		if !strings.Contains(c.String(), "STRIPE_LIVEMODE="+tt.want) {
			t.Errorf("String() does not show STRIPE_LIVEMODE=%s: %s", tt.want, c)
		}
	}
}

func TestOpsAddr(t *testing.T) {
	c, err := Load(env(map[string]string{"OPS_ADDR": "127.0.0.1:9090"}))
	if err != nil || c.OpsAddr != "127.0.0.1:9090" {
		t.Fatalf("OPS_ADDR = %q, %v; want 127.0.0.1:9090", c.OpsAddr, err)
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{"PAYMENT_HOLD": "x", "DEDUPE_TTL": "y", "MIGRATE": "z"}))
	if err == nil {
		t.Fatal("want error")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3:\n%v", len(lines), err)
	}
}

func TestRedisURLForms(t *testing.T) {
	for _, u := range []string{
		"redis://localhost:6379/0",
		"rediss://user:pw@redis.example.com:6380",
		"redis-sentinel://:pw@s1:26379,s2:26379?master_name=mymaster",
		"redis-cluster://n1:7000?addr=n2:7000&addr=n3:7000",
	} {
		if _, err := Load(env(map[string]string{"REDIS_URL": u})); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}

func TestRedisMinReplicas(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want int
	}{
		{map[string]string{}, 0},
		{map[string]string{"REDIS_MIN_REPLICAS": "0"}, 0},
		{map[string]string{"REDIS_MIN_REPLICAS": "2", "REDIS_URL": "redis://r:6379"}, 2},
	} {
		c, err := Load(env(tt.env))
		if err != nil || c.RedisMinReplicas != tt.want {
			t.Errorf("%v: RedisMinReplicas = %d, %v; want %d", tt.env, c.RedisMinReplicas, err, tt.want)
		}
		if !strings.Contains(c.String(), fmt.Sprintf("REDIS_MIN_REPLICAS=%d", tt.want)) {
			t.Errorf("String() does not show REDIS_MIN_REPLICAS=%d: %s", tt.want, c)
		}
	}
}

// TestLogValueIsFieldsRedacted: the configuration logs as one field per
// setting, secrets redacted, not as one string.
func TestLogValueIsFieldsRedacted(t *testing.T) {
	c, err := Load(env(map[string]string{
		"STRIPE_WEBHOOK_SECRET": "whsec_a,whsec_b", "TWILIO_AUTH_TOKEN": "tok1",
		"OPS_USERNAME": "ops", "OPS_PASSWORD": "hunter2",
		"SMTP_URL": "smtp://user:pw@mail:1025", "REDIS_URL": "redis://:secret@redis:6379/0",
		"BRAND_NAME": "Acme Tables",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("starting", "config", c)
	var rec struct {
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal([]byte(buf.String()), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	for k, want := range map[string]any{
		"STRIPE_WEBHOOK_SECRET": "(2 set, redacted)", "TWILIO_AUTH_TOKEN": "(1 set, redacted)",
		"OPS_PASSWORD": "(1 set, redacted)", "OPS_USERNAME": "ops", "BRAND_NAME": "Acme Tables",
		"SMTP_URL": "smtp://user:xxxxx@mail:1025", "REDIS_URL": "redis://:xxxxx@redis:6379/0",
		"MIGRATE": true, "WORKER_CONCURRENCY": float64(10), "LOG_LEVEL": "INFO",
	} {
		if got := rec.Config[k]; got != want {
			t.Errorf("config.%s = %#v, want %#v", k, got, want)
		}
	}
	if len(rec.Config) < 30 {
		t.Errorf("config has %d fields, want one per setting: %v", len(rec.Config), rec.Config)
	}
	for _, secret := range []string{"whsec_a", "whsec_b", "tok1", "secret", "hunter2", ":pw@"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log leaks %q: %s", secret, buf.String())
		}
	}
}
