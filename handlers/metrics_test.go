package handlers_test

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/metrics"
)

// fakeOps stands for the ops UI: it answers the status named by ?status=
// (any code a handler behind /ops/* might write).
var fakeOps = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	code, err := strconv.Atoi(r.URL.Query().Get("status"))
	if err != nil {
		code = http.StatusOK
	}
	w.WriteHeader(code)
})

func withOps(_ *handlers.Config, d *handlers.Deps) { d.Ops = fakeOps }

// series lists the gateway_* series the registry serves, as
// name{label="value",...}, sorted.
func series(t *testing.T, m *metrics.Metrics) []string {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		if !strings.HasPrefix(mf.GetName(), "gateway_") {
			continue
		}
		for _, s := range mf.GetMetric() {
			var ls []string
			for _, l := range s.GetLabel() {
				ls = append(ls, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			out = append(out, mf.GetName()+"{"+strings.Join(ls, ",")+"}")
		}
	}
	sort.Strings(out)
	return out
}

func serveOne(h http.Handler, method, target string) {
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(method, target, nil))
}

// request is a method and a target.
type request struct{ method, target string }

func TestHTTPMetricLabelsAreClosed(t *testing.T) {
	tests := []struct {
		name, method, path string
		want               string // the gateway_http_requests_total series counted
	}{
		{"known route", "GET", "/healthz", `code="200",method="GET",route="/healthz"`},
		{"bogus method", "BOGUS1", "/healthz", `code="405",method="other",route="/healthz"`},
		{"webdav method", "PROPFIND", "/healthz", `code="405",method="other",route="/healthz"`},
		{"lower-case method", "get", "/healthz", `code="405",method="other",route="/healthz"`},
		{"random path", "GET", "/x7f3/../etc/passwd", `code="404",method="GET",route="unmatched"`},
		{"prefix of a route", "GET", "/api/v1/webhooks/", `code="404",method="GET",route="unmatched"`},
		{"below a route", "POST", handlers.StripePath + "/x/y", `code="404",method="POST",route="unmatched"`},
		{"webhook with GET", "GET", handlers.StripePath, `code="405",method="GET",route="` + handlers.StripePath + `"`},
		{"ops wildcard", "GET", "/ops/api/queues/q8/tasks", `code="200",method="GET",route="/ops/*"`},
		{"ops with bogus method", "BOGUS2", "/ops/x", `code="405",method="other",route="/ops/*"`},
		{"odd status from ops", "GET", "/ops/x?status=799", `code="other",method="GET",route="/ops/*"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, withOps)
			serveOne(f.handler, tt.method, tt.path)
			var got []string
			for _, s := range series(t, f.metrics) {
				if rest, ok := strings.CutPrefix(s, "gateway_http_requests_total{"); ok {
					got = append(got, strings.TrimSuffix(rest, "}"))
				}
			}
			if diff := cmp.Diff([]string{tt.want}, got); diff != "" {
				t.Errorf("series (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRequestsCannotGrowSeries sends a few hundred random requests (random
// methods, paths under and beside every route, random ops statuses) after
// one of each kind: the set of series on /metrics stays the same.
func TestRequestsCannotGrowSeries(t *testing.T) {
	f := newFixture(t, withOps)
	rnd := rand.New(rand.NewPCG(1, 2))
	word := func() string {
		const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."
		b := make([]byte, 1+rnd.IntN(12))
		for i := range b {
			b[i] = letters[rnd.IntN(len(letters))]
		}
		return string(b)
	}
	kinds := []func() request{
		func() request { return request{strings.ToUpper(word()), "/healthz"} },
		func() request { return request{"GET", "/" + word() + "/" + word()} },
		func() request { return request{"POST", handlers.TwilioPath + "/" + word()} },
		func() request { return request{"GET", "/ops/" + word() + "?status=" + strconv.Itoa(600+rnd.IntN(400))} },
		func() request { return request{"X" + word(), "/ops/" + word()} },
		func() request { return request{"X" + word(), "/" + word()} },
	}
	for _, k := range kinds {
		r := k()
		serveOne(f.handler, r.method, r.target)
	}
	before := series(t, f.metrics)
	for i := 0; i < 300; i++ {
		r := kinds[rnd.IntN(len(kinds))]()
		serveOne(f.handler, r.method, r.target)
	}
	if diff := cmp.Diff(before, series(t, f.metrics)); diff != "" {
		t.Errorf("random requests changed the series (-before +after):\n%s", diff)
	}
}
