package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/reserveeasy/gateway/metrics"
)

// routeUnmatched is the route label of requests no route template matched.
const routeUnmatched = "unmatched"

// httpMetrics counts requests by method, route template and status code.
// Every label comes from a closed set, so no request can create a new
// series: methods outside the standard nine are "other", the route is one
// of e's registered templates (never a raw path) or "unmatched", and the
// code is "other" outside 100-599. The route table must be complete before
// the first request is served (the templates are read then).
func httpMetrics(e *echo.Echo, m *metrics.Metrics) echo.MiddlewareFunc {
	routes := sync.OnceValue(func() map[string]bool {
		known := map[string]bool{}
		for _, r := range e.Routes() {
			known[r.Path] = true
		}
		return known
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			route := c.Path()
			if !routes()[route] {
				route = routeUnmatched
			}
			method := methodLabel(c.Request().Method)
			m.HTTPRequests.WithLabelValues(method, route, codeLabel(statusOf(c, err))).Inc()
			m.HTTPSeconds.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
			return err
		}
	}
}

// statusOf is the status the request is answered with: the response's, or
// the error's once the error handler has answered it.
func statusOf(c echo.Context, err error) int {
	if err == nil {
		return c.Response().Status
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code
	}
	if c.Response().Committed {
		return c.Response().Status
	}
	return http.StatusInternalServerError // what errorHandler answers
}

// methodLabel is the method label: the standard methods, else "other".
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return metrics.Other
}

// codeLabel is the code label: the status code, or "other" outside 100-599.
func codeLabel(code int) string {
	if code < 100 || code > 599 {
		return metrics.Other
	}
	return strconv.Itoa(code)
}
