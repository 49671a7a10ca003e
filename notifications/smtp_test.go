package notifications

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"
)

const testFrom = "bookings@reserveeasy.local"

func TestSMTPMailerSends(t *testing.T) {
	serverTLS, clientTLS := testTLS(t)
	tests := []struct {
		name      string
		cfg       fakeSMTPConfig
		scheme    string
		user      *url.Userinfo
		clientTLS *tls.Config
		wantUser  string
		wantTLS   bool
	}{
		{name: "no auth", scheme: "smtp"},
		{name: "auth plain", cfg: fakeSMTPConfig{user: "mailer", pass: "s3cret:/@"},
			scheme: "smtp", user: url.UserPassword("mailer", "s3cret:/@"), wantUser: "mailer"},
		{name: "starttls", cfg: fakeSMTPConfig{tls: serverTLS},
			scheme: "smtp", clientTLS: clientTLS, wantTLS: true},
		{name: "starttls and auth", cfg: fakeSMTPConfig{tls: serverTLS, user: "mailer", pass: "pw"},
			scheme: "smtp", user: url.UserPassword("mailer", "pw"), clientTLS: clientTLS,
			wantUser: "mailer", wantTLS: true},
		{name: "smtps", cfg: fakeSMTPConfig{tls: serverTLS, implicitTLS: true},
			scheme: "smtps", clientTLS: clientTLS, wantTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startSMTP(t, tt.cfg)
			u := &url.URL{Scheme: tt.scheme, User: tt.user, Host: srv.addr}
			m, err := newSMTPMailer(u, testFrom, tt.clientTLS)
			if err != nil {
				t.Fatalf("newSMTPMailer: %v", err)
			}
			email, err := RenderEmail(TemplateRefund, "jane@example.com",
				Data{BookingID: 12, CustomerName: "Jane", Amount: 6000, Currency: "eur"})
			if err != nil {
				t.Fatalf("RenderEmail: %v", err)
			}

			rcpt, err := m.SendEmail(context.Background(), email)
			if err != nil {
				t.Fatalf("SendEmail: %v", err)
			}

			assertDelivered(t, srv, email, rcpt, receivedMail{From: testFrom,
				To: []string{"jane@example.com"}, User: tt.wantUser, TLS: tt.wantTLS})
		})
	}
}

// assertDelivered checks that srv received exactly email, with the envelope
// want (Data ignored) and the Message-ID in rcpt.
func assertDelivered(t *testing.T, srv *fakeSMTP, email Email, rcpt Receipt, want receivedMail) {
	t.Helper()
	if rcpt.ProviderID == "" || rcpt.Logged {
		t.Errorf("receipt = %+v, want a ProviderID and Logged false", rcpt)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	data := got[0].Data
	got[0].Data = nil
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("envelope (-want +got):\n%s", diff)
	}
	wantMail := parsedMail{
		From: "<" + testFrom + ">", To: "<" + email.To + ">",
		Subject: email.Subject, MessageID: rcpt.ProviderID,
		Parts: map[string]string{"text/plain": email.Text, "text/html": email.HTML},
	}
	if diff := cmp.Diff(wantMail, parseMail(t, data)); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}

func TestSMTPMailerFailures(t *testing.T) {
	closed := closedAddr(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name          string
		cfg           *fakeSMTPConfig // nil: no server, dial closedAddr
		user          *url.Userinfo
		to            string
		ctx           context.Context
		wantPermanent bool
	}{
		{name: "recipient rejected 550", wantPermanent: true,
			cfg: &fakeSMTPConfig{rcptErr: smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "No such user")}},
		{name: "message rejected 554", wantPermanent: true,
			cfg: &fakeSMTPConfig{dataErr: smtpErr(554, smtp.EnhancedCode{5, 7, 1}, "Rejected as spam")}},
		{name: "invalid address", to: "not an address", wantPermanent: true, cfg: &fakeSMTPConfig{}},
		{name: "recipient deferred 451",
			cfg: &fakeSMTPConfig{rcptErr: smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Try again later")}},
		{name: "wrong password", user: url.UserPassword("mailer", "wrong"),
			cfg: &fakeSMTPConfig{user: "mailer", pass: "right"}},
		{name: "auth required, none configured", cfg: &fakeSMTPConfig{user: "mailer", pass: "right"}},
		{name: "connection refused"},
		{name: "context canceled", ctx: canceled, cfg: &fakeSMTPConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := closed
			var srv *fakeSMTP
			if tt.cfg != nil {
				srv = startSMTP(t, *tt.cfg)
				addr = srv.addr
			}
			m, err := NewSMTPMailer(&url.URL{Scheme: "smtp", User: tt.user, Host: addr}, testFrom)
			if err != nil {
				t.Fatalf("NewSMTPMailer: %v", err)
			}
			assertEmailFails(t, tt.ctx, m, tt.to, tt.wantPermanent)
			if srv != nil && len(srv.received()) != 0 {
				t.Errorf("server accepted %d messages, want none", len(srv.received()))
			}
		})
	}
}

// assertEmailFails sends an email to to (default jane@example.com) with ctx
// (default Background) and checks that it fails, permanently or not,
// without showing the address.
func assertEmailFails(t *testing.T, ctx context.Context, m *SMTPMailer, to string, wantPermanent bool) {
	t.Helper()
	if to == "" {
		to = "jane@example.com"
	}
	if ctx == nil {
		ctx = context.Background()
	}
	_, err := m.SendEmail(ctx, Email{To: to, Subject: "Hi", Text: "Hello"})
	if err == nil {
		t.Fatal("SendEmail succeeded, want an error")
	}
	t.Logf("err: %v", err)
	if got := errors.Is(err, ErrPermanent); got != wantPermanent {
		t.Errorf("errors.Is(err, ErrPermanent) = %v, want %v; err: %v", got, wantPermanent, err)
	}
	if strings.Contains(err.Error(), to) {
		t.Errorf("error shows the recipient %q: %v", to, err)
	}
}

func TestNewSMTPMailerRejects(t *testing.T) {
	tests := []struct {
		name string
		url  string
		from string
	}{
		{"http scheme", "http://localhost:25", testFrom},
		{"no host", "smtp://", testFrom},
		{"port out of range", "smtp://localhost:99999", testFrom},
		{"bad from", "smtp://localhost:25", "not an address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatalf("parse %q: %v", tt.url, err)
			}
			if _, err := NewSMTPMailer(u, tt.from); err == nil {
				t.Error("NewSMTPMailer succeeded, want an error")
			}
		})
	}
}

// parsedMail is what a test checks in a received message.
type parsedMail struct {
	From, To, Subject, MessageID string
	Parts                        map[string]string // body by media type, CRLF as LF
}

// parseMail parses a multipart/alternative message.
func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(string(data)))
	if err != nil {
		t.Fatalf("read message: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	got := parsedMail{From: msg.Header.Get("From"), To: msg.Header.Get("To"),
		Subject: subject, MessageID: msg.Header.Get("Message-ID"), Parts: map[string]string{}}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", mediaType, err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart() // undoes quoted-printable
		if err == io.EOF {
			return got
		}
		if err != nil {
			t.Fatalf("next part: %v", err)
		}
		body, err := io.ReadAll(p)
		if err != nil {
			t.Fatalf("read part: %v", err)
		}
		partType, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		got.Parts[partType] = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
}

// closedAddr returns a 127.0.0.1 address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
