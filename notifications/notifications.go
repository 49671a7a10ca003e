// Package notifications is how the gateway talks to customers and support:
// the email and SMS senders (SMTP through go-mail, Twilio's Messages API, or
// a log line when neither is configured) and the message templates.
//
// Senders report a failure that retrying cannot fix by wrapping
// [ErrPermanent]; every other error is transient and worth retrying.
package notifications

import (
	"context"
	"errors"
	"strings"
)

// ErrPermanent marks a delivery failure that retrying cannot fix: an invalid
// recipient, an SMTP server rejecting the recipient or the message with a 5xx
// reply, Twilio refusing the request with a 4xx such as error 21211 (invalid
// 'To' number). Errors wrap it next to their cause, so both errors.Is(err,
// ErrPermanent) and errors.As on the cause work. Every other failure
// (connection refused, timeouts, 4xx SMTP replies, Twilio 5xx and 429, bad
// credentials) is transient.
var ErrPermanent = errors.New("permanent delivery failure")

// Email is one rendered email. HTML may be empty for a plain-text email.
// Template, when set, names the template it was rendered from (for logs).
type Email struct {
	To, Subject, Text, HTML string
	Template                string
}

// SMS is one text message. StatusCallback, when set, is the URL Twilio
// calls back with delivery status updates. Template, when set, names the
// template it was rendered from (for logs).
type SMS struct {
	To, Body, StatusCallback string
	Template                 string
}

// Receipt says what happened to a message that was accepted.
type Receipt struct {
	ProviderID string // SMTP Message-ID header or Twilio message sid; "" when only logged
	Logged     bool   // true when no provider is configured and the message was only logged
}

// Mailer sends one email.
type Mailer interface {
	SendEmail(ctx context.Context, m Email) (Receipt, error)
}

// Texter sends one SMS.
type Texter interface {
	SendSMS(ctx context.Context, m SMS) (Receipt, error)
}

// redactedError keeps a recipient address or number out of an error's text
// (which ends up in logs and the task queue) while errors.Is and errors.As
// still reach the cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// redact replaces every occurrence of secret in err's text with masked.
func redact(err error, secret, masked string) error {
	if err == nil || secret == "" || !strings.Contains(err.Error(), secret) {
		return err
	}
	return &redactedError{msg: strings.ReplaceAll(err.Error(), secret, masked), err: err}
}
