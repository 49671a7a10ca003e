package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/queue/redistest"
)

// TestREADMEMetricsTable: the README's metrics table (Operations →
// Metrics) lists exactly the gateway_* families /metrics serves, each with
// its type and labels, after `gateway demo` has exercised webhooks, tasks,
// booking changes and messages.
func TestREADMEMetricsTable(t *testing.T) {
	documented := readmeMetrics(t)
	served := servedMetrics(metricsPage(t))
	if diff := cmp.Diff(documented, served); diff != "" {
		t.Errorf("README metrics table (-README +served):\n%s", diff)
	}
}

// servedPage caches metricsPage's answer: the tests reading it share one
// gateway and one demo run.
var servedPage struct {
	sync.Mutex
	page string
}

// metricsPage returns what /metrics serves after `gateway demo` has
// exercised webhooks, tasks, booking changes and messages on a gateway
// (serve) of its own, once every family of the README's table is served
// or 15 s have passed.
func metricsPage(t *testing.T) string {
	t.Helper()
	servedPage.Lock()
	defer servedPage.Unlock()
	if servedPage.page != "" {
		return servedPage.page
	}
	documented := readmeMetrics(t)
	env := map[string]string{
		"REDIS_URL":             redistest.URL(t, redistest.DBCommand),
		"DATABASE_URL":          "sqlite:" + filepath.Join(t.TempDir(), "gw.db"),
		"STRIPE_WEBHOOK_SECRET": "whsec_demo_test",
		"TWILIO_AUTH_TOKEN":     "demo_test_token",
	}
	g := startGateway(t, []string{"serve"}, env)
	defer g.stop()
	var out outputBuffer
	if err := run(context.Background(), []string{"demo", "--url", g.url}, gatewayEnv(env), &out, &out); err != nil {
		t.Fatalf("gateway demo: %v\n%s", err, out.String())
	}
	var page string
	// Families appear with their first sample (tasks finish, the lease is
	// taken, asynchronously): wait until every documented one is served.
	why := waitUntil(15*time.Second, func() string {
		code, body := g.get("/metrics")
		if code != 200 {
			return "GET /metrics: " + body
		}
		page = body
		served := servedMetrics(body)
		for name := range documented {
			if _, ok := served[name]; !ok {
				return name + " is not served"
			}
		}
		return ""
	})
	if why != "" {
		t.Log(why)
		return page // not cached: the next test tries again
	}
	servedPage.page = page
	return page
}

// readmeMetrics reads the README's metrics table: family → "type: labels"
// (labels are the backquoted words of the labels column outside
// parentheses, sorted).
func readmeMetrics(t *testing.T) map[string]string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "* **Metrics** (`/metrics`):")
	if !ok {
		t.Fatal("README has no Metrics item under Operations")
	}
	table, _, _ = strings.Cut(table, "\n\n  Every label")
	paren, code := regexp.MustCompile(`\([^)]*\)`), regexp.MustCompile("`([^`]+)`")
	out := map[string]string{}
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) != 5 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`gateway_") {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		var labels []string
		for _, m := range code.FindAllStringSubmatch(paren.ReplaceAllString(cells[3], ""), -1) {
			labels = append(labels, m[1])
		}
		sort.Strings(labels)
		out[name] = strings.TrimSpace(cells[2]) + ": " + strings.Join(labels, ", ")
	}
	if len(out) == 0 {
		t.Fatal("README's metrics table has no gateway_* rows")
	}
	return out
}

// servedMetrics reads a /metrics page: gateway_* family → "type: labels"
// (the label names of its samples, without a histogram's le, sorted).
func servedMetrics(page string) map[string]string {
	types := map[string]string{}
	labels := map[string]map[string]bool{}
	label := regexp.MustCompile(`(\w+)="(?:[^"\\]|\\.)*"`)
	for _, line := range strings.Split(page, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "#" && f[1] == "TYPE" && strings.HasPrefix(f[2], "gateway_") {
			types[f[2]] = f[3]
			labels[f[2]] = map[string]bool{}
			continue
		}
		if !strings.HasPrefix(line, "gateway_") {
			continue
		}
		name, rest, _ := strings.Cut(line, "{")
		name, _, _ = strings.Cut(name, " ")
		if _, ok := types[name]; !ok {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(name, suffix); ok && types[base] == "histogram" {
					name = base
				}
			}
		}
		if labels[name] == nil {
			continue
		}
		rest, _, _ = strings.Cut(rest, "}")
		for _, m := range label.FindAllStringSubmatch(rest, -1) {
			if m[1] != "le" {
				labels[name][m[1]] = true
			}
		}
	}
	out := map[string]string{}
	for name, typ := range types {
		var ls []string
		for l := range labels[name] {
			ls = append(ls, l)
		}
		sort.Strings(ls)
		out[name] = typ + ": " + strings.Join(ls, ", ")
	}
	return out
}
