package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestJSONLogsDurationsAsStrings: a JSON log writes a duration as Go does
// ("1.5s"), at the top level and inside the configuration's fields, not as
// nanoseconds; the configuration is an object.
func TestJSONLogsDurationsAsStrings(t *testing.T) {
	var out outputBuffer
	e := &env{getenv: gatewayEnv(map[string]string{"LOG_FORMAT": "json", "PAYMENT_HOLD": "90m"}), stdout: &out, stderr: &out}
	cfg, log, err := loadConfig(e)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("starting", "took", 1500*time.Millisecond, "config", cfg)
	var rec struct {
		Took   any            `json:"took"`
		Config map[string]any `json:"config"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out.String())), &rec); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if rec.Took != "1.5s" {
		t.Errorf("took = %#v, want \"1.5s\"", rec.Took)
	}
	for k, want := range map[string]string{"PAYMENT_HOLD": "1h30m0s", "SHUTDOWN_TIMEOUT": "10s", "STRIPE_TOLERANCE": "5m0s"} {
		if got := rec.Config[k]; got != want {
			t.Errorf("config.%s = %#v, want %q", k, got, want)
		}
	}
}
