package notifications

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// twilioTimeout bounds one request to Twilio's REST API.
const twilioTimeout = 10 * time.Second

// twilioCredential is what twilio-go accepts as an account sid or auth
// token; it refuses anything else at send time with an API-like 400 error.
var twilioCredential = regexp.MustCompile(`^[a-zA-Z0-9]+$`)

// TwilioTexter sends SMS through Twilio's Messages API with twilio-go. It is
// safe for concurrent use.
type TwilioTexter struct {
	creds     *twclient.Credentials
	sid       string
	from      string
	base      *url.URL // nil: Twilio's own API host
	transport http.RoundTripper
}

var _ Texter = (*TwilioTexter)(nil)

// NewTwilioTexter returns a texter sending from the number (or sender id)
// from with the account's sid and auth token. apiBaseURL "" talks to
// Twilio; otherwise every REST request goes to that base URL instead (a
// proxy or a test double), keeping the path: a base of
// http://proxy/twilio sends messages to
// http://proxy/twilio/2010-04-01/Accounts/{sid}/Messages.json.
func NewTwilioTexter(accountSID, authToken, from, apiBaseURL string) (*TwilioTexter, error) {
	var problems []error
	if !twilioCredential.MatchString(accountSID) {
		problems = append(problems, errors.New("account sid must be non-empty and alphanumeric"))
	}
	if !twilioCredential.MatchString(authToken) {
		problems = append(problems, errors.New("auth token must be non-empty and alphanumeric"))
	}
	if from == "" {
		problems = append(problems, errors.New("from number is empty"))
	}
	var base *url.URL
	if apiBaseURL != "" {
		u, err := url.Parse(apiBaseURL)
		if err == nil && (u.Scheme != "http" && u.Scheme != "https" || u.Host == "") {
			err = errors.New("want an absolute http or https URL")
		}
		if err != nil {
			problems = append(problems, fmt.Errorf("api base URL %q: %w", apiBaseURL, err))
		}
		base = u
	}
	if err := errors.Join(problems...); err != nil {
		return nil, fmt.Errorf("new twilio texter: %w", err)
	}
	return &TwilioTexter{
		creds:     twclient.NewCredentials(accountSID, authToken),
		sid:       accountSID,
		from:      from,
		base:      base,
		transport: http.DefaultTransport.(*http.Transport).Clone(),
	}, nil
}

// SendSMS sends m and returns Twilio's message sid as the ProviderID.
func (t *TwilioTexter) SendSMS(ctx context.Context, m SMS) (Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, twilioTimeout)
	defer cancel()
	api, rt := t.api(ctx)
	params := &twapi.CreateMessageParams{}
	params.SetFrom(t.from)
	params.SetTo(m.To)
	params.SetBody(m.Body)
	if m.StatusCallback != "" {
		params.SetStatusCallback(m.StatusCallback)
	}
	msg, err := api.CreateMessage(params)
	if err == nil && (msg.Sid == nil || *msg.Sid == "") {
		err = errors.New("response has no message sid")
	}
	if err != nil {
		err = classifyTwilio(err, rt.status)
		err = redact(fmt.Errorf("send sms to %s: %w", m.To, err), m.To, MaskPhone(m.To))
		// Twilio's message may quote the number without its '+'.
		digits := strings.TrimPrefix(m.To, "+")
		return Receipt{}, redact(err, digits, MaskPhone(digits))
	}
	return Receipt{ProviderID: *msg.Sid}, nil
}

// api returns a Messages API client for one call bound to ctx. twilio-go
// sends every request with context.Background(), so each call gets its own
// transport that carries ctx (and records the HTTP status).
func (t *TwilioTexter) api(ctx context.Context) (*twapi.ApiService, *twilioTransport) {
	rt := &twilioTransport{ctx: ctx, base: t.base, next: t.transport}
	c := &twclient.Client{
		Credentials: t.creds,
		HTTPClient: &http.Client{
			Transport:     rt,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	c.SetAccountSid(t.sid)
	return twapi.NewApiServiceWithClient(c), rt
}

// MessageState is what Twilio says of one message it took.
type MessageState struct {
	SID, Status string
	To, From    string
	ErrorCode   string // "" when none
}

// ErrNoSuchMessage means Twilio does not know the message (404): deleted,
// or sent from another account.
var ErrNoSuchMessage = errors.New("twilio has no such message")

// FetchMessage asks Twilio for the message with sid (GET
// /2010-04-01/Accounts/{sid}/Messages/{sid}.json): its status now.
func (t *TwilioTexter) FetchMessage(ctx context.Context, sid string) (MessageState, error) {
	ctx, cancel := context.WithTimeout(ctx, twilioTimeout)
	defer cancel()
	api, rt := t.api(ctx)
	msg, err := api.FetchMessage(sid, nil)
	if err == nil && (msg.Status == nil || *msg.Status == "") {
		err = errors.New("response has no status")
	}
	if err != nil && rt.status == http.StatusNotFound {
		return MessageState{}, fmt.Errorf("fetch sms %s: %w: %w", sid, ErrNoSuchMessage, err)
	}
	if err != nil {
		return MessageState{}, fmt.Errorf("fetch sms %s: %w", sid, classifyTwilio(err, rt.status))
	}
	st := MessageState{SID: sid, Status: *msg.Status}
	if msg.To != nil {
		st.To = *msg.To
	}
	if msg.From != nil {
		st.From = *msg.From
	}
	if msg.ErrorCode != nil && *msg.ErrorCode != 0 {
		st.ErrorCode = strconv.Itoa(*msg.ErrorCode)
	}
	return st, nil
}

// classifyTwilio wraps ErrPermanent around a 4xx answer, which means Twilio
// will refuse this message again (error 21211, invalid 'To' number, and the
// like), except for the ones that retrying or an operator can fix: 401 and
// 403 (credentials, account), 404 (account sid), 408, 409 and 429. status is
// the HTTP status of the answer, 0 when there was none.
func classifyTwilio(err error, status int) error {
	switch {
	case status < 400 || status > 499:
		return err
	case status == http.StatusUnauthorized, status == http.StatusForbidden,
		status == http.StatusNotFound, status == http.StatusRequestTimeout,
		status == http.StatusConflict, status == http.StatusTooManyRequests:
		return fmt.Errorf("twilio answered %d: %w", status, err)
	}
	return fmt.Errorf("twilio answered %d: %w: %w", status, ErrPermanent, err)
}

// twilioTransport serves one SendSMS call: it binds the call's context to
// the request, sends it to base instead of Twilio when base is set, and
// records the response status.
type twilioTransport struct {
	ctx    context.Context
	base   *url.URL
	next   http.RoundTripper
	status int
}

// maxErrorBody caps how much of an error response is kept for twilio-go to
// decode.
const maxErrorBody = 64 << 10

// RoundTrip implements http.RoundTripper.
func (t *twilioTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(t.ctx)
	if t.base != nil {
		r.URL.Scheme = t.base.Scheme
		r.URL.Host = t.base.Host
		r.URL.Path = strings.TrimSuffix(t.base.Path, "/") + r.URL.Path
		r.URL.RawPath = ""
		r.Host = ""
	}
	resp, err := t.next.RoundTrip(r)
	if err != nil && t.base != nil {
		// http.Client's error names the URL twilio-go built, not this one.
		return nil, fmt.Errorf("via %s: %w", t.base.Host, err)
	}
	if err != nil {
		return nil, err
	}
	t.status = resp.StatusCode
	if resp.StatusCode >= 400 {
		// twilio-go never closes an error response's body; read it here so
		// the connection goes back to the pool.
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read twilio error response: %w", err)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
	}
	return resp, nil
}
