package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/queue/redistest"
)

// TestBadTemplateStopsTheStart: a template of TEMPLATES_DIR that does not
// parse stops `gateway serve` at once with an error naming the file.
func TestBadTemplateStopsTheStart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "email", "payment_failed.txt")
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte(`{{define "subject"}}{{.Brand}{{end}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	var out outputBuffer
	err := run(context.Background(), []string{"serve"}, gatewayEnv(map[string]string{
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t),
		"TEMPLATES_DIR": dir, "BRAND_NAME": "Acme Tables",
	}), &out, &out)
	if err == nil || !strings.Contains(err.Error(), bad) {
		t.Fatalf("err = %v, want one naming %s", err, bad)
	}
}
