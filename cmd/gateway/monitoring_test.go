package main

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Paths of the monitoring files, from this package's directory.
const (
	dashboardFile = "../../docs/grafana/gateway.json"
	alertsFile    = "../../docs/prometheus/alerts.yml"
)

// notYetServed are the families the dashboard and the rules use before the
// binary serves them, by name (none now).
var notYetServed = map[string][]string{}

// family is a served gateway_* metric family: its type, label names and
// the label values known for each (served or documented in the README).
type family struct {
	typ    string
	labels map[string]bool
	values map[string]map[string]bool
}

// TestMonitoringQueries: every expression of the Grafana dashboard and of
// the alerting rules names only families /metrics serves (or the named
// not-yet-served ones), with labels those families have and known label
// values; and every served gateway_* family is on a dashboard panel.
func TestMonitoringQueries(t *testing.T) {
	families := servedFamilies(t, metricsPage(t))
	for name := range notYetServed {
		if _, ok := families[name]; ok {
			t.Errorf("%s is served now: remove it from notYetServed (and the README's note) so that it is checked", name)
		}
	}
	used := map[string]bool{}
	for _, q := range dashboardQueries(t) {
		for _, err := range checkExpr(q.expr, families, used) {
			t.Errorf("%s: panel %q: %v\n  expr: %s", dashboardFile, q.where, err, q.expr)
		}
	}
	for name := range families {
		if !used[name] {
			t.Errorf("%s: no panel shows %s, which /metrics serves", dashboardFile, name)
		}
	}
	for name := range notYetServed {
		if !used[name] {
			t.Errorf("%s: no panel shows %s", dashboardFile, name)
		}
	}
	for _, q := range alertQueries(t) {
		for _, err := range checkExpr(q.expr, families, map[string]bool{}) {
			t.Errorf("%s: alert %q: %v\n  expr: %s", alertsFile, q.where, err, q.expr)
		}
	}
}

// TestCheckExprCatches: the expression check finds what it is meant to
// find, on families like the served ones.
func TestCheckExprCatches(t *testing.T) {
	families := map[string]*family{
		"gateway_webhooks_total": {typ: "counter", labels: map[string]bool{"provider": true, "outcome": true},
			values: map[string]map[string]bool{"outcome": {"accepted": true, "invalid_signature": true}}},
		"gateway_task_seconds": {typ: "histogram", labels: map[string]bool{"type": true}, values: map[string]map[string]bool{}},
		"gateway_reconciled_total": {typ: "counter", labels: map[string]bool{"source": true, "outcome": true},
			values: map[string]map[string]bool{}},
	}
	for expr, want := range map[string]string{
		`sum by (provider) (rate(gateway_webhooks_total[5m]))`:                                "",
		`sum by (provider) (rate(gateway_webhook_total[5m]))`:                                 "gateway_webhook_total is not served",
		`sum by (instance) (rate(gateway_webhooks_total[5m]))`:                                `label "instance"`,
		`rate(gateway_webhooks_total{outcome="invalid_signatures"}[5m])`:                      `value "invalid_signatures"`,
		`rate(gateway_webhooks_total{outcome=~"accepted|invalid_sig"}[5m])`:                   `value "invalid_sig"`,
		`rate(gateway_webhooks_total{route="/x"}[5m])`:                                        `label "route"`,
		`histogram_quantile(0.99, sum by (le, type) (rate(gateway_task_seconds_bucket[5m])))`: "",
		`histogram_quantile(0.99, sum by (type) (rate(gateway_task_seconds_bucket[5m])))`:     "without le",
		`sum by (le) (rate(gateway_webhooks_total[5m]))`:                                      `label "le"`,
		`sum(rate(gateway_task_seconds_sum[5m])) / sum(rate(gateway_task_seconds_count[5m]))`: "",
		`sum by (source, outcome) (increase(gateway_reconciled_total[1h]))`:                   "",
		`sum by (queue) (increase(gateway_reconciled_total[1h]))`:                             `label "queue"`,
		`sum(rate(process_cpu_seconds_total[5m]))`:                                            "names no gateway_* metric",
	} {
		errs := checkExpr(expr, families, map[string]bool{})
		got := fmt.Sprint(errs)
		switch {
		case want == "" && len(errs) > 0:
			t.Errorf("checkExpr(%s) = %v, want no error", expr, errs)
		case want != "" && !strings.Contains(got, want):
			t.Errorf("checkExpr(%s) = %v, want an error containing %q", expr, errs, want)
		}
	}
}

// servedFamilies reads a /metrics page's gateway_* families, with the
// label values it serves plus the closed sets the README's metrics table
// lists ("`outcome` (accepted, duplicate, ...)").
func servedFamilies(t *testing.T, page string) map[string]*family {
	t.Helper()
	out := map[string]*family{}
	for name, desc := range servedMetrics(page) {
		typ, labels, _ := strings.Cut(desc, ": ")
		f := &family{typ: typ, labels: map[string]bool{}, values: map[string]map[string]bool{}}
		for _, l := range strings.Split(labels, ", ") {
			if l != "" {
				f.labels[l] = true
			}
		}
		out[name] = f
	}
	addValue := func(name, label, value string) {
		if f := out[name]; f != nil && f.labels[label] {
			if f.values[label] == nil {
				f.values[label] = map[string]bool{}
			}
			f.values[label][value] = true
		}
	}
	sample := regexp.MustCompile(`^(gateway_[a-z_]+)\{([^}]*)\}`)
	pair := regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)
	for _, line := range strings.Split(page, "\n") {
		m := sample.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		name := familyOf(m[1], out)
		for _, p := range pair.FindAllStringSubmatch(m[2], -1) {
			addValue(name, p[1], p[2])
		}
	}
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, _ := strings.Cut(string(b), "* **Metrics** (`/metrics`):")
	table, _, _ = strings.Cut(table, "\n\n  Every label")
	closed := regexp.MustCompile("`(\\w+)` \\(([a-z_]+(?:, [a-z_]+)+)\\)")
	for _, line := range strings.Split(table, "\n") {
		cells := strings.Split(strings.TrimSpace(line), "|")
		if len(cells) != 5 {
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[1]), "`")
		for _, m := range closed.FindAllStringSubmatch(cells[3], -1) {
			for _, v := range strings.Split(m[2], ", ") {
				addValue(name, m[1], v)
			}
		}
	}
	return out
}

// familyOf is the family a series name belongs to: itself, or the
// histogram whose _bucket, _sum or _count it is; "" when neither.
func familyOf(name string, families map[string]*family) string {
	if families[name] != nil {
		return name
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && families[base] != nil && families[base].typ == "histogram" {
			return base
		}
	}
	return ""
}

var (
	metricName = regexp.MustCompile(`\bgateway_[a-z_]+\b`)
	// grouping is a by/without/on/ignoring/group_* clause's label list.
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)`)
	selector = regexp.MustCompile(`\b(gateway_[a-z_]+)\s*\{([^}]*)\}`)
	matcher  = regexp.MustCompile(`(\w+)\s*(=~|!~|!=|=)\s*"([^"]*)"`)
	closedRe = regexp.MustCompile(`^[a-z_]+(\|[a-z_]+)*$`)
)

// checkExpr returns what is wrong with expr's use of gateway_* metrics and
// records in used the families it names.
func checkExpr(expr string, families map[string]*family, used map[string]bool) []error {
	var errs []error
	type use struct {
		labels map[string]bool
		bucket bool
	}
	uses := map[string]*use{}
	for _, name := range metricName.FindAllString(expr, -1) {
		if labels, ok := notYetServed[name]; ok {
			u := &use{labels: map[string]bool{}}
			for _, l := range labels {
				u.labels[l] = true
			}
			uses[name] = u
			used[name] = true
			continue
		}
		base := familyOf(name, families)
		if base == "" {
			errs = append(errs, fmt.Errorf("%s is not served by the gateway", name))
			continue
		}
		used[base] = true
		u := uses[name]
		if u == nil {
			u = &use{labels: families[base].labels, bucket: name != base && strings.HasSuffix(name, "_bucket")}
			uses[name] = u
		}
	}
	if len(uses) == 0 && len(errs) == 0 {
		return []error{fmt.Errorf("names no gateway_* metric")}
	}
	var names []string
	for name := range uses {
		names = append(names, name)
	}
	sort.Strings(names)
	leGrouped := false
	for _, m := range grouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(m[1], ",") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			if l == "le" {
				leGrouped = true
			}
			for _, name := range names {
				u := uses[name]
				if !u.labels[l] && !(l == "le" && u.bucket) {
					errs = append(errs, fmt.Errorf("grouping by label %q, which %s does not have", l, name))
				}
			}
		}
	}
	for _, name := range names {
		if uses[name].bucket && (!leGrouped || !strings.Contains(expr, "histogram_quantile")) {
			errs = append(errs, fmt.Errorf("%s used without le in histogram_quantile(..., sum by (le, ...) (...))", name))
		}
	}
	for _, m := range selector.FindAllStringSubmatch(expr, -1) {
		u := uses[m[1]]
		if u == nil {
			continue // reported above
		}
		base := familyOf(m[1], families)
		for _, mm := range matcher.FindAllStringSubmatch(m[2], -1) {
			label, op, value := mm[1], mm[2], mm[3]
			if !u.labels[label] && !(label == "le" && u.bucket) {
				errs = append(errs, fmt.Errorf("matcher on label %q, which %s does not have", label, m[1]))
				continue
			}
			if base == "" || !closedRe.MatchString(value) {
				continue
			}
			known := families[base].values[label]
			if len(known) == 0 {
				continue
			}
			for _, v := range strings.Split(value, "|") {
				if !known[v] {
					errs = append(errs, fmt.Errorf("matcher %s%s%q: value %q is not one %s serves or the README lists", label, op, value, v, base))
				}
			}
		}
	}
	return errs
}

// query is one expression and where it comes from.
type query struct{ where, expr string }

// dashboardQueries reads the dashboard, checks its structure (a Prometheus
// datasource variable DS_PROMETHEUS used by every panel and target, panels
// with titles and targets with expressions) and returns its expressions.
func dashboardQueries(t *testing.T) []query {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	type datasource struct{ Type, UID string }
	type panel struct {
		ID         int
		Type       string
		Title      string
		Datasource *datasource
		GridPos    *struct{ H, W, X, Y int } `json:"gridPos"`
		Targets    []struct {
			RefID      string `json:"refId"`
			Expr       string
			Datasource *datasource
		}
		Panels []json.RawMessage
	}
	var d struct {
		Title         string
		UID           string
		SchemaVersion int `json:"schemaVersion"`
		Templating    struct {
			List []struct{ Name, Type, Query string }
		}
		Panels []json.RawMessage
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	if d.Title == "" || d.UID == "" {
		t.Errorf("%s: title %q, uid %q: want both", dashboardFile, d.Title, d.UID)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("%s: schemaVersion %d, want 36 or later", dashboardFile, d.SchemaVersion)
	}
	hasVar := false
	for _, v := range d.Templating.List {
		hasVar = hasVar || v.Name == "DS_PROMETHEUS" && v.Type == "datasource" && v.Query == "prometheus"
	}
	if !hasVar {
		t.Errorf("%s: no templating variable DS_PROMETHEUS of type datasource, query prometheus", dashboardFile)
	}
	checkDS := func(where string, ds *datasource) {
		if ds == nil || ds.Type != "prometheus" || ds.UID != "${DS_PROMETHEUS}" {
			t.Errorf("%s: %s: datasource %+v, want {prometheus ${DS_PROMETHEUS}}", dashboardFile, where, ds)
		}
	}
	var out []query
	ids := map[int]bool{}
	var walk func([]json.RawMessage)
	walk = func(raw []json.RawMessage) {
		for _, r := range raw {
			var p panel
			if err := json.Unmarshal(r, &p); err != nil {
				t.Fatalf("%s: panel: %v", dashboardFile, err)
			}
			if p.Title == "" {
				t.Errorf("%s: panel %d has no title", dashboardFile, p.ID)
			}
			if ids[p.ID] {
				t.Errorf("%s: panel id %d used twice", dashboardFile, p.ID)
			}
			ids[p.ID] = true
			if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
				t.Errorf("%s: panel %q has no gridPos", dashboardFile, p.Title)
			}
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			checkDS("panel "+p.Title, p.Datasource)
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no targets", dashboardFile, p.Title)
			}
			for _, tg := range p.Targets {
				if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" {
					t.Errorf("%s: panel %q: target %q has no expr or refId", dashboardFile, p.Title, tg.RefID)
				}
				checkDS("panel "+p.Title+" target "+tg.RefID, tg.Datasource)
				out = append(out, query{p.Title, tg.Expr})
			}
		}
	}
	walk(d.Panels)
	if len(out) == 0 {
		t.Fatalf("%s: no queries", dashboardFile)
	}
	return out
}

// alertQueries reads the alerting rules, checks each has an expression
// and summary and description annotations, and returns the expressions.
func alertQueries(t *testing.T) []query {
	t.Helper()
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Record, Expr string
				Annotations         map[string]string
			}
		}
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("%s: %v", alertsFile, err)
	}
	var out []query
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			name := r.Alert + r.Record
			if r.Alert != "" && (strings.TrimSpace(r.Annotations["summary"]) == "" || strings.TrimSpace(r.Annotations["description"]) == "") {
				t.Errorf("%s: alert %q: want summary and description annotations", alertsFile, name)
			}
			if strings.TrimSpace(r.Expr) == "" {
				t.Errorf("%s: rule %q has no expr", alertsFile, name)
			}
			out = append(out, query{name, r.Expr})
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no rules", alertsFile)
	}
	return out
}
