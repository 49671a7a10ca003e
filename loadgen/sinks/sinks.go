// Package sinks is the providers the workers talk to, for `make bench` and
// `make test-faults`: a Twilio Messages API double (POST
// .../Accounts/{sid}/Messages.json creates a message and answers 201 with
// its resource; GET of the same path lists them filtered on To, From and
// DateSent>, newest first, paged, as twilio-go's ListMessage reads them)
// and an SMTP server accepting every message. Both answer after a chosen
// latency, and both record what each recipient received: a message is
// recorded when the provider has taken it, before the latency, so a
// client that dies waiting for the answer has still sent it.
package sinks

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Config says how slowly the doubles answer.
type Config struct {
	TwilioLatency, SMTPLatency time.Duration
}

// SMS is one message the Twilio double created.
type SMS struct {
	SID, Account, To, From, Body string
	Created                      time.Time
}

// Email is one message the SMTP server accepted.
type Email struct {
	RcptTo    []string
	MessageID string
	Subject   string
}

// Sinks records what the doubles took. Safe for concurrent use.
type Sinks struct {
	cfg Config

	mu     sync.Mutex
	sms    []SMS
	emails []Email
	done   chan struct{}
	once   sync.Once
}

// New returns doubles answering with cfg's latencies.
func New(cfg Config) *Sinks { return &Sinks{cfg: cfg, done: make(chan struct{})} }

// Close makes requests still waiting out a latency answer at once.
func (s *Sinks) Close() { s.once.Do(func() { close(s.done) }) }

func (s *Sinks) wait(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	case <-s.done:
	}
}

// SMS returns every SMS created so far, oldest first.
func (s *Sinks) SMS() []SMS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SMS(nil), s.sms...)
}

// Emails returns every email accepted so far, oldest first.
func (s *Sinks) Emails() []Email {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Email(nil), s.emails...)
}

// Received is what each recipient got: SMS bodies per To, Message-IDs per
// email recipient (one entry per delivery, in order).
type Received struct {
	SMS   map[string][]string `json:"sms"`
	Email map[string][]string `json:"email"`
}

// Received returns what each recipient got so far.
func (s *Sinks) Received() Received {
	r := Received{SMS: map[string][]string{}, Email: map[string][]string{}}
	for _, m := range s.SMS() {
		r.SMS[m.To] = append(r.SMS[m.To], m.Body)
	}
	for _, e := range s.Emails() {
		for _, to := range e.RcptTo {
			r.Email[to] = append(r.Email[to], e.MessageID)
		}
	}
	return r
}

// Counts returns how many SMS and emails were taken.
func (s *Sinks) Counts() (sms, email int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sms), len(s.emails)
}

var messagesPath = regexp.MustCompile(`/2010-04-01/Accounts/([^/]+)/Messages\.json$`)

// Twilio is the Twilio REST API double; GET /received answers what each
// recipient got (Received, JSON).
func (s *Sinks) Twilio() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/received" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(s.Received())
			return
		}
		m := messagesPath.FindStringSubmatch(r.URL.Path)
		if m == nil {
			http.NotFound(w, r)
			return
		}
		var status int
		var body []byte
		switch r.Method {
		case http.MethodPost:
			if err := r.ParseForm(); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			b := make([]byte, 16)
			_, _ = rand.Read(b)
			msg := SMS{SID: "SM" + hex.EncodeToString(b), Account: m[1], To: r.PostForm.Get("To"),
				From: r.PostForm.Get("From"), Body: r.PostForm.Get("Body"), Created: time.Now().UTC()}
			s.mu.Lock()
			s.sms = append(s.sms, msg)
			s.mu.Unlock()
			status, body = http.StatusCreated, mustJSON(resource(msg))
		case http.MethodGet:
			status, body = s.list(m[1], r.URL.Path, r.URL.Query())
		default:
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.wait(r.Context(), s.cfg.TwilioLatency)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func resource(m SMS) map[string]any {
	d := m.Created.Format(time.RFC1123Z)
	return map[string]any{"sid": m.SID, "account_sid": m.Account, "status": "sent", "to": m.To, "from": m.From,
		"body": m.Body, "api_version": "2010-04-01", "num_segments": "1", "direction": "outbound-api",
		"date_created": d, "date_updated": d, "date_sent": d}
}

// list answers the Messages list like Twilio: the account's messages
// matching To, From and DateSent> (every message here is sent when
// created), newest first, PageSize (default 50) per page, Page from 0.
func (s *Sinks) list(account, path string, q url.Values) (int, []byte) {
	size, page := 50, 0
	var err error
	if v := q.Get("PageSize"); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 || size > 1000 {
			return http.StatusBadRequest, mustJSON(map[string]any{"code": 20001, "message": "Invalid PageSize", "status": 400})
		}
	}
	if v := q.Get("Page"); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < 0 {
			return http.StatusBadRequest, mustJSON(map[string]any{"code": 20001, "message": "Invalid Page", "status": 400})
		}
	}
	var after time.Time
	if v := q.Get("DateSent>"); v != "" {
		if after, err = time.Parse(time.RFC3339, v); err != nil {
			return http.StatusBadRequest, mustJSON(map[string]any{"code": 20001, "message": "Invalid DateSent", "status": 400})
		}
	}
	s.mu.Lock()
	var match []SMS
	for i := len(s.sms) - 1; i >= 0; i-- {
		m := s.sms[i]
		if m.Account == account && (q.Get("To") == "" || m.To == q.Get("To")) &&
			(q.Get("From") == "" || m.From == q.Get("From")) && !m.Created.Truncate(time.Second).Before(after) {
			match = append(match, m)
		}
	}
	s.mu.Unlock()
	uri := func(p int) string {
		v := url.Values{}
		for _, k := range []string{"To", "From", "DateSent>"} {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		v.Set("PageSize", strconv.Itoa(size))
		v.Set("Page", strconv.Itoa(p))
		if p > 0 {
			v.Set("PageToken", fmt.Sprintf("PA%d", p))
		}
		return path + "?" + v.Encode()
	}
	start := min(page*size, len(match))
	end := min(start+size, len(match))
	msgs := []map[string]any{}
	for _, m := range match[start:end] {
		msgs = append(msgs, resource(m))
	}
	var next, prev any
	if end < len(match) {
		next = uri(page + 1)
	}
	if page > 0 {
		prev = uri(page - 1)
	}
	return http.StatusOK, mustJSON(map[string]any{"messages": msgs, "page": page, "page_size": size,
		"start": start, "end": max(end-1, start), "uri": uri(page), "first_page_uri": uri(0),
		"next_page_uri": next, "previous_page_uri": prev})
}

// SMTP is the SMTP server's backend: every envelope is accepted, each
// message recorded when its DATA is read, answered after the latency.
func (s *Sinks) SMTP() smtp.Backend { return backend{s} }

type backend struct{ s *Sinks }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: b.s}, nil }

type session struct {
	s    *Sinks
	rcpt []string
}

func (x *session) Mail(string, *smtp.MailOptions) error { x.rcpt = nil; return nil }
func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.rcpt = append(x.rcpt, to)
	return nil
}
func (x *session) Reset()        { x.rcpt = nil }
func (x *session) Logout() error { return nil }
func (x *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	e := Email{RcptTo: append([]string(nil), x.rcpt...)}
	if msg, err := mail.ReadMessage(bytes.NewReader(b)); err == nil {
		e.MessageID = msg.Header.Get("Message-ID")
		e.Subject, _ = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	}
	x.s.mu.Lock()
	x.s.emails = append(x.s.emails, e)
	x.s.mu.Unlock()
	x.s.wait(context.Background(), x.s.cfg.SMTPLatency)
	return nil
}
