package notifications

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
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

// client returns a twilio-go client whose requests carry ctx, go to the
// texter's base URL and are observed by the returned transport. twilio-go
// sends every request with context.Background(), so each call gets its own
// transport.
func (t *TwilioTexter) client(ctx context.Context) (*twapi.ApiService, *twilioTransport) {
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

// SendSMS sends m and returns Twilio's message sid as the ProviderID. A
// failure after the request was written (timeout, reset) or a 5xx answer
// wraps ErrAmbiguous: Twilio may have taken the message (ask FindSMS).
func (t *TwilioTexter) SendSMS(ctx context.Context, m SMS) (Receipt, error) {
	ctx, cancel := context.WithTimeout(ctx, twilioTimeout)
	defer cancel()
	api, rt := t.client(ctx)
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
		err = classifyTwilio(err, rt.status, rt.wrote.Load())
		err = redact(fmt.Errorf("send sms to %s: %w", m.To, err), m.To, MaskPhone(m.To))
		// Twilio's message may quote the number without its '+'.
		digits := strings.TrimPrefix(m.To, "+")
		return Receipt{}, redact(err, digits, MaskPhone(digits))
	}
	return Receipt{ProviderID: *msg.Sid}, nil
}

// maxLookup caps how many sent messages FindSMS reads; queuedLookup how
// many of the newest, sent or not.
const (
	maxLookup    = 1000
	queuedLookup = 50
)

// FindSMS asks Twilio's Messages list for a message from the texter's
// number to to whose body is body (or ends with it: trial accounts prefix
// bodies), sent since since, or else still queued at Twilio (no date_sent
// yet: the newest messages, created since since), and returns its sid.
func (t *TwilioTexter) FindSMS(ctx context.Context, to, body string, since time.Time) (Receipt, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, twilioTimeout)
	defer cancel()
	api, _ := t.client(ctx)
	params := &twapi.ListMessageParams{}
	params.SetTo(to)
	params.SetFrom(t.from)
	params.SetDateSentAfter(since.UTC())
	params.SetPageSize(100)
	params.SetLimit(maxLookup)
	msgs, err := api.ListMessage(params)
	if err == nil {
		if r, ok := matchSMS(msgs, body, time.Time{}); ok {
			return r, true, nil
		}
		newest := &twapi.ListMessageParams{}
		newest.SetTo(to)
		newest.SetFrom(t.from)
		newest.SetPageSize(queuedLookup)
		var page *twapi.ListMessageResponse
		if page, err = api.PageMessage(newest, "", ""); err == nil {
			r, ok := matchSMS(page.Messages, body, since)
			return r, ok, nil
		}
	}
	return Receipt{}, false, redact(fmt.Errorf("list sms to %s: %w", to, err), to, MaskPhone(to))
}

// matchSMS returns the sid of the first of msgs with body, created since
// since (zero: whenever).
func matchSMS(msgs []twapi.ApiV2010Message, body string, since time.Time) (Receipt, bool) {
	for _, m := range msgs {
		if m.Sid == nil || m.Body == nil || !strings.HasSuffix(*m.Body, body) {
			continue
		}
		if !since.IsZero() {
			created, err := time.Parse(time.RFC1123Z, deref(m.DateCreated))
			if err != nil || created.Before(since) {
				continue
			}
		}
		return Receipt{ProviderID: *m.Sid}, true
	}
	return Receipt{}, false
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
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
	api, rt := t.client(ctx)
	msg, err := api.FetchMessage(sid, nil)
	if err == nil && (msg.Status == nil || *msg.Status == "") {
		err = errors.New("response has no status")
	}
	if err != nil && rt.status == http.StatusNotFound {
		return MessageState{}, fmt.Errorf("fetch sms %s: %w: %w", sid, ErrNoSuchMessage, err)
	}
	if err != nil {
		return MessageState{}, fmt.Errorf("fetch sms %s: %w", sid, classifyTwilio(err, rt.status, rt.wrote.Load()))
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
// 403 (credentials, account), 404 (account sid), 408, 409 and 429. A 5xx,
// or no answer to a request that was written (timeout, reset), wraps
// ErrAmbiguous, and so does a success without a sid. status is the HTTP status of the answer, 0 when there was
// none; wrote reports whether the request was written.
func classifyTwilio(err error, status int, wrote bool) error {
	switch {
	case status >= 500, status == 0 && wrote, status >= 200 && status < 300:
		return fmt.Errorf("twilio may have taken the message: %w: %w", ErrAmbiguous, err)
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
	wrote  atomic.Bool // the request was written in full
}

// maxErrorBody caps how much of an error response is kept for twilio-go to
// decode.
const maxErrorBody = 64 << 10

// RoundTrip implements http.RoundTripper.
func (t *twilioTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(httptrace.WithClientTrace(t.ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) { t.wrote.Store(i.Err == nil) },
	}))
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
