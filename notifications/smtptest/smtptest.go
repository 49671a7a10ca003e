// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 for tests: it records every message it accepts and parses each
// one (headers, plain-text and HTML parts) so that tests can assert on what
// a customer would read. It can require AUTH PLAIN, speak STARTTLS or
// implicit TLS, and refuse recipients or messages with a chosen reply.
package smtptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Config says how a Server behaves. The zero Config accepts every message
// without authentication over plain TCP.
type Config struct {
	// User and Pass, when User is set, make the server offer AUTH PLAIN and
	// refuse MAIL FROM until a client authenticated with them.
	User, Pass string
	// RcptErr is the reply to every RCPT TO (nil: accept), DataErr the reply
	// to DATA (nil: accept); use *smtp.SMTPError for a chosen code.
	RcptErr, DataErr error
	// TLS offers STARTTLS with this configuration, or, with ImplicitTLS,
	// speaks TLS from the first byte (smtps).
	TLS         *tls.Config
	ImplicitTLS bool
}

// Message is one message the server accepted: its envelope, the headers
// and bodies parsed from its MIME data, and the data itself.
type Message struct {
	// MailFrom and RcptTo are the envelope (MAIL FROM, RCPT TO).
	MailFrom string
	RcptTo   []string
	// User is the authenticated user, "" without AUTH; TLS reports whether
	// the session was encrypted.
	User string
	TLS  bool

	// From and To are the addresses of the From and To headers (without
	// display names); Subject is decoded (RFC 2047); MessageID is the
	// Message-ID header as sent, angle brackets included.
	From      string
	To        []string
	Subject   string
	MessageID string
	// Text and HTML are the text/plain and text/html bodies, transfer
	// encoding undone and CRLF turned into LF; "" when the message has no
	// such part.
	Text, HTML string

	// Data is the message as received after DATA.
	Data []byte
}

// Server is a running SMTP server. Its methods are safe for concurrent use.
type Server struct {
	tb   testing.TB
	addr string
	cfg  Config

	mu       sync.Mutex
	messages []Message
	errs     []error // messages that could not be parsed
}

// Start starts a server with cfg on a free port of 127.0.0.1. It stops when
// tb ends.
func Start(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	if (cfg.TLS == nil) && cfg.ImplicitTLS {
		tb.Fatal("smtptest: ImplicitTLS needs a TLS config")
	}
	srv := &Server{tb: tb, cfg: cfg}
	s := smtp.NewServer(backend{srv})
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("smtptest: listen: %v", err)
	}
	if cfg.ImplicitTLS {
		ln = tls.NewListener(ln, cfg.TLS)
	} else {
		s.TLSConfig = cfg.TLS
	}
	srv.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ln)
	}()
	tb.Cleanup(func() {
		s.Close()
		ln.Close() // in case Close ran before Serve registered ln
		<-done
	})
	return srv
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string { return s.addr }

// URL is the server's address as an SMTP_URL: smtp://host:port, smtps://
// with ImplicitTLS, with the configured user and password when AUTH is
// required.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.addr}
	if s.cfg.ImplicitTLS {
		u.Scheme = "smtps"
	}
	if s.cfg.User != "" {
		u.User = url.UserPassword(s.cfg.User, s.cfg.Pass)
	}
	return u.String()
}

// Messages returns the messages accepted so far, oldest first. A message
// whose MIME data could not be parsed fails the test.
func (s *Server) Messages() []Message {
	s.tb.Helper()
	s.mu.Lock()
	errs := s.errs
	s.errs = nil
	out := append([]Message(nil), s.messages...)
	s.mu.Unlock()
	for _, err := range errs {
		s.tb.Errorf("smtptest: %v", err)
	}
	return out
}

// MessagesTo returns the accepted messages whose envelope names rcpt.
func (s *Server) MessagesTo(rcpt string) []Message {
	s.tb.Helper()
	var out []Message
	for _, m := range s.Messages() {
		for _, to := range m.RcptTo {
			if to == rcpt {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

func (s *Server) accept(m Message) {
	err := parse(&m)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.errs = append(s.errs, fmt.Errorf("message %d to %v: %w", len(s.messages)+1, m.RcptTo, err))
	}
	s.messages = append(s.messages, m)
}

// backend implements smtp.Backend.
type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

// session implements smtp.Session and smtp.AuthSession.
type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	cur  Message
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.cfg.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != ss.s.cfg.User || pass != ss.s.cfg.Pass {
			return smtp.ErrAuthFailed
		}
		ss.user = user
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.cfg.User != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.cur = Message{MailFrom: from}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.s.cfg.RcptErr != nil {
		return ss.s.cfg.RcptErr
	}
	ss.cur.RcptTo = append(ss.cur.RcptTo, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if ss.s.cfg.DataErr != nil {
		return ss.s.cfg.DataErr
	}
	if len(ss.cur.RcptTo) == 0 {
		return errors.New("no recipients")
	}
	m := ss.cur
	m.Data = data
	m.User = ss.user
	_, m.TLS = ss.conn.TLSConnectionState()
	ss.s.accept(m)
	return nil
}

func (ss *session) Reset()        { ss.cur = Message{} }
func (ss *session) Logout() error { return nil }
