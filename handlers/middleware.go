package handlers

import (
	"errors"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/reserveeasy/gateway/metrics"
)

// httpMetrics counts requests by route template (never by raw path, which
// would explode label cardinality).
func httpMetrics(m *metrics.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			route := c.Path()
			if route == "" {
				route = "unmatched"
			}
			code := c.Response().Status
			var he *echo.HTTPError
			if err != nil && errors.As(err, &he) {
				code = he.Code
			}
			m.HTTPRequests.WithLabelValues(c.Request().Method, route, strconv.Itoa(code)).Inc()
			m.HTTPSeconds.WithLabelValues(c.Request().Method, route).Observe(time.Since(start).Seconds())
			return err
		}
	}
}
