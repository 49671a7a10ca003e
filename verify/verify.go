// Package verify checks that a webhook really comes from its sender: Twilio
// (X-Twilio-Signature) or Stripe (Stripe-Signature).
//
// Everything here is a pure function over bytes, strings and an injected
// clock: no HTTP framework, no storage, no environment. Several secrets may
// be given for each sender (rotation); any one of them verifies a request.
// Failures are reported with the sentinel errors below, possibly wrapped
// with context, so callers test them with errors.Is.
package verify

import "errors"

// Sentinel errors returned (possibly wrapped) by the verifiers.
var (
	// ErrNoSecret means no usable (non-empty) secret was configured: every
	// request is rejected. It is the receiver's failure, not the sender's.
	ErrNoSecret = errors.New("no secret configured")
	// ErrMissingSignature means the request carries no signature header.
	ErrMissingSignature = errors.New("missing signature")
	// ErrInvalidSignature means no configured secret produces the signature
	// (or the signature header cannot be read).
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrTooOld means a Stripe signature is authentic but its timestamp is
	// further from now than the tolerance, in either direction.
	ErrTooOld = errors.New("timestamp outside tolerance")
	// ErrMalformed means the body, form, URL or JSON cannot be decoded.
	ErrMalformed = errors.New("malformed payload")
)

// usable returns the non-empty secrets. An empty HMAC key is public
// knowledge, so a blank entry (as "a,,b" in a comma-separated setting
// yields) must never verify anything.
func usable(secrets []string) []string {
	var out []string
	for _, s := range secrets {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
