package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/reserveeasy/gateway/notifications"
)

// FormatPayload is how the ops UI shows a task payload (it fits
// asynqmon.PayloadFormatterFunc): the payload as JSON with every phone
// number, email address, personal name, street address and secret masked,
// at any depth (the Stripe tasks carry the whole event, the Twilio task
// every form parameter). Fields are recognised by name (client_secret,
// receipt_email, billing_details.name, To, From...); values seen in such
// fields, email addresses, E.164 numbers and Stripe client secrets are
// also masked wherever else they appear, keys included. A payload that is
// not JSON is not shown, only its size. The task itself is unchanged.
func FormatPayload(_ string, payload []byte) string {
	v, err := decodeJSON(payload)
	if err != nil {
		return undecodable(payload)
	}
	r := &redactor{}
	r.collect(v, kindPlain)
	r.prepare()
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r.redact(v, kindPlain)); err != nil {
		return undecodable(payload)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func undecodable(payload []byte) string {
	return fmt.Sprintf("(payload not shown: %d bytes, not JSON)", len(payload))
}

// decodeJSON decodes exactly one JSON value, numbers kept as written.
func decodeJSON(payload []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("data after the JSON value")
	}
	return v, nil
}

// kind is what a field holds, decided by its name and inherited by
// everything under it.
type kind int

const (
	kindPlain   kind = iota
	kindSecret       // client_secret, passwords, tokens: hidden entirely
	kindText         // message bodies: hidden entirely
	kindEmail        // shown as MaskEmail shows it
	kindPhone        // shown as MaskPhone shows it
	kindName         // shown as MaskName shows it
	kindAddress      // street lines and postal codes: hidden entirely
)

const hidden = "***"

// fieldKind classifies a field name, case and separators ignored; a field
// of no kind of its own inherits parent's.
func fieldKind(name string, parent kind) kind {
	n := strings.ToLower(strings.NewReplacer("_", "", "-", "", " ", "").Replace(name))
	switch {
	case strings.Contains(n, "secret"), strings.Contains(n, "password"), strings.Contains(n, "token"):
		return kindSecret
	case n == "body":
		return kindText
	case strings.Contains(n, "email"):
		return kindEmail
	case strings.Contains(n, "phone"), n == "to", n == "from", n == "waid":
		return kindPhone
	case strings.HasSuffix(n, "name"):
		return kindName
	case n == "line1", n == "line2", n == "postalcode", n == "zip":
		return kindAddress
	}
	return parent
}

var (
	emailPattern = regexp.MustCompile(`[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}\-]+(?:\.[\p{L}\p{N}\-]+)+`)
	// phonePattern is an E.164 number not glued to a word (a sid or id).
	phonePattern = regexp.MustCompile(`(?:^|[^\p{L}\p{N}_])\+[0-9]{7,}`)
	// clientSecretPattern is a Stripe client secret (pi_..._secret_...).
	clientSecretPattern = regexp.MustCompile(`[A-Za-z0-9]+_[A-Za-z0-9]+_secret_[A-Za-z0-9]+`)
	// wordPattern is a whole word; an id such as evt_paid_ada is one.
	wordPattern = regexp.MustCompile(`[\p{L}\p{N}_]+`)
)

// redactor masks one payload: collect finds the values of the sensitive
// fields, redact masks those fields and, in every other string, the
// values collected and whatever looks like an email address, a phone
// number or a client secret.
type redactor struct {
	secrets map[string]bool   // hidden everywhere, last of all
	known   map[string]string // other sensitive values and their masks
	words   map[string]string // the words of names, masked as whole words only
	// hideKnown and hideSecret replace them, longest first (prepare).
	hideKnown, hideSecret *strings.Replacer
}

func (r *redactor) collect(v any, k kind) {
	switch v := v.(type) {
	case map[string]any:
		for key, x := range v {
			r.collect(x, fieldKind(key, k))
		}
	case []any:
		for _, x := range v {
			r.collect(x, k)
		}
	case string:
		r.remember(v, k)
	case json.Number:
		r.remember(v.String(), k)
	}
}

// minSearched is the shortest value looked for in other fields: shorter
// ones ("a" typed as a billing name) are masked in their own field only,
// or every key and text holding that letter would be garbled.
const minSearched = 3

func (r *redactor) remember(s string, k kind) {
	if utf8.RuneCountInString(strings.TrimSpace(s)) < minSearched {
		return
	}
	if k == kindSecret {
		if r.secrets == nil {
			r.secrets = map[string]bool{}
		}
		r.secrets[s] = true
		return
	}
	if r.known == nil {
		r.known = map[string]string{}
	}
	switch k {
	case kindEmail, kindPhone:
		r.known[s] = mask(s, k)
	case kindName:
		r.known[s] = notifications.MaskName(s)
		for _, w := range wordPattern.FindAllString(s, -1) {
			if utf8.RuneCountInString(w) >= minSearched {
				if r.words == nil {
					r.words = map[string]string{}
				}
				r.words[strings.ToLower(w)] = notifications.MaskName(w)
			}
		}
	}
}

// prepare builds the replacers. A strings.Replacer prefers the earlier of
// two matches at one place: longer values go first.
func (r *redactor) prepare() {
	var known, secrets []string
	for s := range r.known {
		known = append(known, s)
	}
	for s := range r.secrets {
		secrets = append(secrets, s)
	}
	byLength := func(a, b string) int {
		if c := len(b) - len(a); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	}
	slices.SortFunc(known, byLength)
	slices.SortFunc(secrets, byLength)
	var args []string
	for _, s := range known {
		args = append(args, s, r.known[s])
	}
	r.hideKnown = strings.NewReplacer(args...)
	args = args[:0]
	for _, s := range secrets {
		args = append(args, s, hidden)
	}
	r.hideSecret = strings.NewReplacer(args...)
}

func (r *redactor) redact(v any, k kind) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for key, x := range v {
			out[r.scrub(key)] = r.redact(x, fieldKind(key, k))
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = r.redact(x, k)
		}
		return out
	case string:
		if k != kindPlain {
			return r.hideSecrets(mask(v, k))
		}
		return r.scrub(v)
	case json.Number:
		if k != kindPlain {
			return hidden
		}
		if s := r.hideSecrets(v.String()); s != v.String() {
			return s
		}
		return v
	}
	return v // bool, nil
}

// mask shows a value of kind k.
func mask(s string, k kind) string {
	switch k {
	case kindEmail:
		if strings.Contains(s, "@") {
			return notifications.MaskEmail(s)
		}
	case kindPhone:
		return notifications.MaskPhone(s)
	case kindName:
		return notifications.MaskName(s)
	case kindPlain:
		return s
	}
	return hidden
}

// scrub masks the sensitive values a plain string may contain.
func (r *redactor) scrub(s string) string {
	s = r.hideKnown.Replace(s)
	if len(r.words) > 0 {
		s = wordPattern.ReplaceAllStringFunc(s, func(w string) string {
			if m, ok := r.words[strings.ToLower(w)]; ok { // "ADA LOVELACE" too
				return m
			}
			return w
		})
	}
	s = clientSecretPattern.ReplaceAllLiteralString(s, hidden)
	s = emailPattern.ReplaceAllStringFunc(s, notifications.MaskEmail)
	s = phonePattern.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.IndexByte(m, '+')
		return m[:i] + notifications.MaskPhone(m[i:])
	})
	return r.hideSecrets(s)
}

// hideSecrets replaces every secret in s. It runs last, on every string
// shown: an occurrence of a secret is either replaced or overlapped by one
// that is, and the "***" put in its place completes no secret without a
// '*'.
func (r *redactor) hideSecrets(s string) string { return r.hideSecret.Replace(s) }
