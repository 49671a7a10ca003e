// Package twiliotest is a fake of Twilio's REST API for tests: an
// httptest server implementing POST /2010-04-01/Accounts/{sid}/Messages.json
// (under any path prefix) that records each request, answers like Twilio
// with a message resource carrying a unique sid, and can be told to fail,
// or to take a message and then drop the connection; GET of the same path,
// the Messages list filtered on To, From and DateSent> (newest first, paged
// with PageSize, Page and next_page_uri); and GET
// /2010-04-01/Accounts/{sid}/Messages/{MessageSid}.json. A created message
// is queued until SetStatus moves it on.
package twiliotest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"
)

// Config says which credentials the server accepts. The zero Config
// accepts any (but still requires HTTP basic auth).
type Config struct {
	AccountSID, AuthToken string
	// Latency delays every answer, like a real API over the internet; a
	// request still waiting when the test ends is answered at once.
	Latency time.Duration
}

// Request is what the server saw of one request.
type Request struct {
	Method, Path string
	// User and Pass are the HTTP basic auth credentials.
	User, Pass string
	// Form is the parsed POST form.
	Form url.Values
	// Status is the HTTP status answered.
	Status int
}

// Message is one message the server created (answered 201).
type Message struct {
	SID        string // "SM" and 32 hex digits, unique
	AccountSID string
	From, To   string
	Body       string
	// StatusCallback is the URL Twilio would call with status updates.
	StatusCallback string
	// DateCreated is when the message was created; DateSent when it was
	// sent: at once, or zero while HoldSending keeps it queued.
	DateCreated, DateSent time.Time
	// Status is the message's status now ("queued" when created) and
	// ErrorCode its error code (0: none); see SetStatus.
	Status    string
	ErrorCode int
}

// Fault is what happens to a request after the server took its message.
type Fault int

// Faults for TakeThen.
const (
	// Reset closes the connection without answering.
	Reset Fault = iota + 1
	// Hang never answers: the client times out.
	Hang
)

// Server is a running fake. Its methods are safe for concurrent use.
type Server struct {
	srv *httptest.Server
	cfg Config

	mu       sync.Mutex
	requests []Request
	messages []Message
	answer   *answer // non-nil: answer every request with it
	faults   []Fault // for the next creations, in order
	holding  bool    // new messages stay queued (no date_sent)

	stopped chan struct{} // closed when the test ends: stop waiting out Latency
}

type answer struct {
	status int
	body   string
}

// messagesPath matches the Messages resource under any prefix, and
// messagePath one message.
var (
	messagesPath = regexp.MustCompile(`/2010-04-01/Accounts/([^/]+)/Messages\.json$`)
	messagePath  = regexp.MustCompile(`/2010-04-01/Accounts/([^/]+)/Messages/([^/]+)\.json$`)
)

// Start starts a fake Twilio API that stops when tb ends.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s := &Server{cfg: cfg, stopped: make(chan struct{})}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	tb.Cleanup(s.srv.Close)
	tb.Cleanup(func() { close(s.stopped) }) // runs first: Close waits for handlers
	return s
}

// URL is the base URL to give the client (TWILIO_API_BASE_URL).
func (s *Server) URL() string { return s.srv.URL }

// Requests returns every request received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// Messages returns the messages created so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// SetStatus moves the message with sid to status (with errorCode, 0 for
// none), as the carrier would, without calling its StatusCallback: a
// fetch of the message answers it. It reports whether the message exists.
func (s *Server) SetStatus(sid, status string, errorCode int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.messages {
		if s.messages[i].SID == sid {
			s.messages[i].Status, s.messages[i].ErrorCode = status, errorCode
			return true
		}
	}
	return false
}

// AddMessage makes the server know a message it did not create (one sent
// before the test), in the given status, and returns it with its sid.
func (s *Server) AddMessage(m Message) Message {
	if m.SID == "" {
		m.SID = newSID()
	}
	if m.Status == "" {
		m.Status = "queued"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages = append(s.messages, m)
	return m
}

// Fail makes every later request fail with status and Twilio's error JSON
// for it (for example 400 with code 21211, invalid 'To' number; 401 with
// 20003; 429 with 20429; 500 with 20500).
func (s *Server) Fail(status int) {
	code, msg := errorFor(status)
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg, "status": status,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
	s.Answer(status, string(b))
}

// Answer makes every later request get status and body (JSON content
// type), whatever it asks: for answers Fail does not cover.
func (s *Server) Answer(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = &answer{status: status, body: body}
}

// TakeThen makes the next message creation record the message, as if
// Twilio had accepted it, and then fail with f instead of answering.
func (s *Server) TakeThen(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// HoldSending keeps the messages created from now on queued, without a
// date_sent, as Twilio does under load (a long code sends about one a
// second); false sends later ones at once again.
func (s *Server) HoldSending(hold bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.holding = hold
}

// Recover undoes Fail and Answer: later requests are served normally.
func (s *Server) Recover() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.answer = nil
}

func errorFor(status int) (code int, msg string) {
	switch status {
	case http.StatusBadRequest:
		return 21211, "The 'To' number is not a valid phone number."
	case http.StatusUnauthorized:
		return 20003, "Authenticate"
	case http.StatusNotFound:
		return 20404, "The requested resource was not found"
	case http.StatusTooManyRequests:
		return 20429, "Too Many Requests"
	case http.StatusServiceUnavailable:
		return 20503, "Service Unavailable"
	}
	return 20500, "Internal Server Error"
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, _ := r.BasicAuth()
	_ = r.ParseForm()
	if s.cfg.Latency > 0 {
		t := time.NewTimer(s.cfg.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
		case <-s.stopped:
		}
		t.Stop()
	}
	req := Request{Method: r.Method, Path: r.URL.Path, User: user, Pass: pass, Form: r.PostForm}
	if r.Method == http.MethodGet {
		req.Form = r.URL.Query()
	}
	status, body := s.respond(r, req)
	req.Status = status
	s.mu.Lock()
	s.requests = append(s.requests, req)
	var fault Fault
	if status == http.StatusCreated && len(s.faults) > 0 {
		fault, s.faults = s.faults[0], s.faults[1:]
	}
	s.mu.Unlock()
	switch fault {
	case Reset:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			if tc, ok := conn.(interface{ SetLinger(int) error }); ok {
				_ = tc.SetLinger(0) // RST, not FIN
			}
			conn.Close()
		}
		return
	case Hang:
		select {
		case <-r.Context().Done():
		case <-s.stopped:
		}
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// respond decides the answer to req and records a created message.
func (s *Server) respond(r *http.Request, req Request) (int, []byte) {
	s.mu.Lock()
	a := s.answer
	s.mu.Unlock()
	if a != nil {
		return a.status, []byte(a.body)
	}
	fail := func(status, code int, msg string) (int, []byte) {
		b, _ := json.Marshal(map[string]any{"code": code, "message": msg, "status": status,
			"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code)})
		return status, b
	}
	if one := messagePath.FindStringSubmatch(req.Path); one != nil {
		return s.fetch(r, req, one[1], one[2], fail)
	}
	m := messagesPath.FindStringSubmatch(req.Path)
	switch {
	case m == nil:
		return fail(http.StatusNotFound, 20404, "The requested resource "+req.Path+" was not found")
	case r.Method != http.MethodPost && r.Method != http.MethodGet:
		return fail(http.StatusMethodNotAllowed, 20004, "Method not allowed")
	case req.User == "" || req.User != m[1] ||
		s.cfg.AccountSID != "" && (req.User != s.cfg.AccountSID || req.Pass != s.cfg.AuthToken):
		return fail(http.StatusUnauthorized, 20003, "Authenticate")
	case r.Method == http.MethodGet:
		return s.list(m[1], req.Path, req.Form)
	case req.Form.Get("To") == "":
		return fail(http.StatusBadRequest, 21604, "A 'To' phone number is required.")
	case req.Form.Get("From") == "" && req.Form.Get("MessagingServiceSid") == "":
		return fail(http.StatusBadRequest, 21603, "The source 'from' phone number is required to send an SMS")
	case req.Form.Get("Body") == "" && req.Form.Get("MediaUrl") == "":
		return fail(http.StatusBadRequest, 21602, "Message body is required.")
	}
	msg := Message{SID: newSID(), AccountSID: m[1], From: req.Form.Get("From"), To: req.Form.Get("To"),
		Body: req.Form.Get("Body"), StatusCallback: req.Form.Get("StatusCallback"), DateCreated: time.Now().UTC(), Status: "queued"}
	s.mu.Lock()
	if !s.holding {
		msg.DateSent = msg.DateCreated
	}
	s.messages = append(s.messages, msg)
	s.mu.Unlock()
	return http.StatusCreated, resource(msg)
}

// fetch answers GET .../Messages/{sid}.json with the message resource.
func (s *Server) fetch(r *http.Request, req Request, account, sid string, fail func(status, code int, msg string) (int, []byte)) (int, []byte) {
	switch {
	case r.Method != http.MethodGet:
		return fail(http.StatusMethodNotAllowed, 20004, "Method not allowed")
	case req.User == "" || req.User != account ||
		s.cfg.AccountSID != "" && (req.User != s.cfg.AccountSID || req.Pass != s.cfg.AuthToken):
		return fail(http.StatusUnauthorized, 20003, "Authenticate")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.messages {
		if m.SID == sid && m.AccountSID == account {
			return http.StatusOK, resource(m)
		}
	}
	return fail(http.StatusNotFound, 20404, "The requested resource "+req.Path+" was not found")
}

// resource is the message resource Twilio answers.
func resource(m Message) []byte {
	b, _ := json.Marshal(fields(m, false))
	return b
}

// fields are the message resource's fields: its Status (SetStatus); a
// listed message that was sent has its date_sent, and is "sent" rather than
// "queued".
func fields(m Message, listed bool) map[string]any {
	created := m.DateCreated.Format(time.RFC1123Z)
	uri := "/2010-04-01/Accounts/" + m.AccountSID + "/Messages/" + m.SID
	var sent any
	status := m.Status
	if status == "" {
		status = "queued"
	}
	if listed && !m.DateSent.IsZero() {
		sent = m.DateSent.Format(time.RFC1123Z)
		if status == "queued" {
			status = "sent"
		}
	}
	return map[string]any{
		"account_sid": m.AccountSID, "api_version": "2010-04-01", "body": m.Body,
		"date_created": created, "date_sent": sent, "date_updated": created, "direction": "outbound-api",
		"error_code": errorCode(m.ErrorCode), "error_message": nil, "from": m.From, "messaging_service_sid": nil,
		"num_media": "0", "num_segments": "1", "price": nil, "price_unit": "USD",
		"sid": m.SID, "status": status, "to": m.To, "uri": uri + ".json",
		"subresource_uris": map[string]string{"media": uri + "/Media.json"},
	}
}

// errorCode is a message's error_code: null when none.
func errorCode(code int) any {
	if code == 0 {
		return nil
	}
	return code
}

// newSID returns a message sid: "SM" and 32 random hex digits.
func newSID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return "SM" + hex.EncodeToString(b)
}
