package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Paths of the webhook endpoints.
const (
	TwilioPath = "/api/v1/webhooks/twilio/sms-status"
	StripePath = "/api/v1/webhooks/stripe/payment-events"
	OpsPath    = "/ops"
)

// NewProbes returns the HTTP handler of a worker-only process: health,
// readiness and (unless d.SeparateOps) metrics and the ops UI, no webhooks.
func NewProbes(d Deps) *echo.Echo {
	e := newEcho(d)
	probes(e, d)
	if !d.SeparateOps {
		ops(e, d)
	}
	return e
}

// NewOps returns the handler of the ops listener (OPS_ADDR): /metrics, the
// ops UI under /ops/ and /healthz, never the webhooks.
func NewOps(d Deps) *echo.Echo {
	e := newEcho(d)
	e.GET("/healthz", healthz)
	ops(e, d)
	return e
}

// newEcho is an Echo with the gateway's error handler, panic recovery and
// request metrics.
func newEcho(d Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Log)
	e.Use(middleware.Recover(), httpMetrics(e, d.Metrics))
	return e
}

// probes registers /healthz and /readyz.
func probes(e *echo.Echo, d Deps) {
	e.GET("/healthz", healthz)
	e.GET("/readyz", readyz(d))
}

func healthz(c echo.Context) error {
	return writeJSON(c, http.StatusOK, map[string]string{"status": "ok"})
}

// ops registers /metrics and, when d.Ops is set, the ops UI under /ops/.
func ops(e *echo.Echo, d Deps) {
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(d.Metrics.Registry, promhttp.HandlerOpts{})))
	if d.Ops == nil {
		return
	}
	// /ops is served as /ops/ (behind the same auth), not redirected.
	e.Any(OpsPath, echo.WrapHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r = r.Clone(r.Context())
		r.URL.Path = OpsPath + "/"
		d.Ops.ServeHTTP(w, r)
	})))
	e.Any(OpsPath+"/*", echo.WrapHandler(d.Ops))
}

// New returns the gateway's HTTP handler: the only route table.
func New(cfg Config, d Deps) *echo.Echo {
	if cfg.EnqueueTimeout <= 0 {
		cfg.EnqueueTimeout = defaultEnqueueTimeout
	}
	e := newEcho(d)
	w := &webhooks{cfg: cfg, d: d}
	// A trailing slash is served, never redirected: senders treat 3xx as
	// failure, and Twilio signs the URL exactly as it called it.
	for _, p := range []string{"", "/"} {
		e.POST(TwilioPath+p, w.twilio)
		e.POST(StripePath+p, w.stripe)
	}

	probes(e, d)
	if !d.SeparateOps {
		ops(e, d)
	}
	return e
}
