package handlers

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// readyz answers 200 when what this process needs answers (Redis, and the
// database unless d.DB is nil, as for `gateway api`, which never uses it),
// else 503 naming what is down.
func readyz(d Deps) echo.HandlerFunc {
	checks := map[string]Pinger{"redis": d.Redis}
	names := []string{"redis"}
	if d.DB != nil {
		checks["database"] = d.DB
		names = append(names, "database")
	}
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		res := map[string]string{}
		down := []string{}
		for _, name := range names {
			if err := checks[name].Ping(ctx); err != nil {
				res[name] = "down"
				down = append(down, name)
				d.Log.Warn("readiness check failed", "dependency", name, "err", err)
				continue
			}
			res[name] = "ok"
		}
		if len(down) > 0 {
			res["status"] = "unavailable"
			res["down"] = strings.Join(down, ",")
			return writeJSON(c, http.StatusServiceUnavailable, res)
		}
		res["status"] = "ready"
		return writeJSON(c, http.StatusOK, res)
	}
}
