// Package notifications is how the gateway talks to customers and support:
// the email and SMS senders (SMTP through go-mail, Twilio's Messages API, or
// a log line when neither is configured) and the message templates.
//
// Senders classify every failure: one that retrying cannot fix wraps
// [ErrPermanent]; one after which the provider may have taken the message
// (a timeout or reset after the request was written, a Twilio 5xx, an SMTP
// error after the message data was sent) wraps [ErrAmbiguous]; every other
// error happened before the provider could take the message, and is safe
// to retry.
package notifications

import (
	"context"
	"errors"
	"strings"
	"time"
)

// ErrPermanent marks a delivery failure that retrying cannot fix: an invalid
// recipient, an SMTP server rejecting the recipient or the message with a 5xx
// reply, Twilio refusing the request with a 4xx such as error 21211 (invalid
// 'To' number). Errors wrap it next to their cause, so both errors.Is(err,
// ErrPermanent) and errors.As on the cause work. Every other failure
// (connection refused, timeouts, 4xx SMTP replies, Twilio 5xx and 429, bad
// credentials) is transient.
var ErrPermanent = errors.New("permanent delivery failure")

// ErrAmbiguous marks a failure whose outcome is unknown: the provider may
// have accepted the message. Before sending it again, ask the provider
// ([SMSFinder]) or send it under the same Message-ID ([Email.MessageID]).
var ErrAmbiguous = errors.New("delivery outcome unknown")

// Email is one rendered email. HTML may be empty for a plain-text email.
type Email struct {
	To, Subject, Text, HTML string
	// Template, when set, names the template it was rendered from (for logs).
	Template string
	// MessageID, when set, is the local part of the Message-ID header
	// (the domain is the sender's): the same on every attempt at one
	// message, so mail clients collapse copies. "": a random one.
	MessageID string
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

// SMSFinder looks up a message the provider may already have taken.
type SMSFinder interface {
	// FindSMS returns the receipt of a message sent to to with body since
	// since, and whether the provider has one.
	FindSMS(ctx context.Context, to, body string, since time.Time) (Receipt, bool, error)
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
