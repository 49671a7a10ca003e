package handlers

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/verify"
)

// errBadRequest marks input the sender must fix.
var errBadRequest = errors.New("bad request")

// classify maps an error from a webhook handler to its status, metrics
// outcome and a short public message. The sender's mistakes are 4xx; our own
// failures are 503 so that the sender retries. Signature failures are 403
// for Twilio and 400 for Stripe, as each sender expects.
func classify(provider string, err error) (int, string, string) {
	var tooLarge *http.MaxBytesError
	sigStatus := http.StatusBadRequest
	if provider == "twilio" {
		sigStatus = http.StatusForbidden
	}
	switch {
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, metrics.OutcomeTooLarge, "body too large"
	case errors.Is(err, verify.ErrNoSecret), errors.Is(err, verify.ErrMissingSignature):
		return sigStatus, metrics.OutcomeInvalidSignature, "missing or unverifiable signature"
	case errors.Is(err, verify.ErrTooOld):
		return sigStatus, metrics.OutcomeInvalidSignature, "signature timestamp outside tolerance"
	case errors.Is(err, verify.ErrInvalidSignature):
		return sigStatus, metrics.OutcomeInvalidSignature, "invalid signature"
	case errors.Is(err, verify.ErrMalformed), errors.Is(err, errBadRequest):
		return http.StatusBadRequest, metrics.OutcomeBadRequest, publicReason(err)
	case errors.Is(err, queue.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, metrics.OutcomeUnavailable, "queue unavailable, retry later"
	}
	return http.StatusServiceUnavailable, metrics.OutcomeUnavailable, "temporary failure, retry later"
}

// publicReason is the message of a bad-request error, which never carries
// secrets: the handlers build these messages themselves.
func publicReason(err error) string {
	var br *badRequest
	if errors.As(err, &br) {
		return br.msg
	}
	return "malformed payload"
}

// badRequest is a 400 with a message the sender may read.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }
func (e *badRequest) Unwrap() error { return errBadRequest }

// errorHandler answers errors that escape the handlers (404, 405, panics)
// with short JSON; webhook errors are answered by the webhook handlers.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		code, msg := http.StatusInternalServerError, "internal error"
		var he *echo.HTTPError
		if errors.As(err, &he) {
			code = he.Code
			msg = http.StatusText(code)
		} else {
			log.Error("request failed", "path", c.Request().URL.Path, "err", err)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(code)
			return
		}
		_ = writeJSON(c, code, map[string]string{"error": msg})
	}
}

// explained is an error with log attributes that say what caused it (a
// signature failure's checked URL and hint); they go to the log only,
// never into the answer.
type explained struct {
	err   error
	attrs []any
}

func (e *explained) Error() string { return e.err.Error() }
func (e *explained) Unwrap() error { return e.err }

// logAttrs are err's explanation, if it has one.
func logAttrs(err error) []any {
	var ex *explained
	if errors.As(err, &ex) {
		return ex.attrs
	}
	return nil
}
