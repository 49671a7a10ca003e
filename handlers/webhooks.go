package handlers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/labstack/echo/v4"

	"github.com/reserveeasy/gateway/metrics"
)

// webhooks serves the two webhook endpoints.
type webhooks struct {
	cfg Config
	d   Deps
}

// readBody reads the whole request body, at most MaxBodyBytes; a larger body
// yields *http.MaxBytesError.
func (w *webhooks) readBody(c echo.Context) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > w.cfg.MaxBodyBytes {
		return nil, &http.MaxBytesError{Limit: w.cfg.MaxBodyBytes}
	}
	return io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, w.cfg.MaxBodyBytes))
}

// enqueue puts task on the queue within EnqueueTimeout. The request's
// context is not used: a sender hanging up must not cancel a half-done
// enqueue.
func (w *webhooks) enqueue(id string, task *asynq.Task, guards ...string) (duplicate bool, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.EnqueueTimeout)
	defer cancel()
	return w.d.Queue.Enqueue(ctx, id, task, guards...)
}

// answer records the outcome and writes the response: ok on success, else
// the error's status and a short JSON message.
func (w *webhooks) answer(c echo.Context, provider string, start time.Time, outcome string, ok any, err error) error {
	defer func() {
		w.d.Metrics.IngestSeconds.WithLabelValues(provider).Observe(time.Since(start).Seconds())
	}()
	if err == nil {
		w.d.Metrics.Webhooks.WithLabelValues(provider, outcome).Inc()
		return writeJSON(c, http.StatusOK, ok)
	}
	status, outcome, msg := classify(provider, err)
	w.d.Metrics.Webhooks.WithLabelValues(provider, outcome).Inc()
	level := w.d.Log.Warn
	if status >= 500 {
		level = w.d.Log.Error
	}
	args := append([]any{"provider", provider, "status", status, "outcome", outcome, "err", err}, logAttrs(err)...)
	level("webhook rejected", args...)
	return writeJSON(c, status, map[string]string{"error": msg})
}

// queued maps Enqueue's result to an outcome.
func queued(duplicate bool) string {
	if duplicate {
		return metrics.OutcomeDuplicate
	}
	return metrics.OutcomeAccepted
}

// writeJSON answers v as compact JSON without Echo's trailing newline, so
// bodies are byte for byte the documented ones ({"received":true}).
func writeJSON(c echo.Context, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	return c.Blob(status, echo.MIMEApplicationJSON, b)
}
