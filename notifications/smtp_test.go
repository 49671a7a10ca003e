package notifications

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/url"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/notifications/smtptest"
)

const testFrom = "bookings@reserveeasy.local"

func TestSMTPMailerSends(t *testing.T) {
	serverTLS, clientTLS := smtptest.NewTLS(t)
	tests := []struct {
		name      string
		cfg       smtptest.Config
		scheme    string
		user      *url.Userinfo
		clientTLS *tls.Config
		wantUser  string
		wantTLS   bool
	}{
		{name: "no auth", scheme: "smtp"},
		{name: "auth plain", cfg: smtptest.Config{User: "mailer", Pass: "s3cret:/@"},
			scheme: "smtp", user: url.UserPassword("mailer", "s3cret:/@"), wantUser: "mailer"},
		{name: "starttls", cfg: smtptest.Config{TLS: serverTLS},
			scheme: "smtp", clientTLS: clientTLS, wantTLS: true},
		{name: "starttls and auth", cfg: smtptest.Config{TLS: serverTLS, User: "mailer", Pass: "pw"},
			scheme: "smtp", user: url.UserPassword("mailer", "pw"), clientTLS: clientTLS,
			wantUser: "mailer", wantTLS: true},
		{name: "credentials for a server without AUTH", scheme: "smtp", user: url.UserPassword("mailer", "pw")},
		{name: "smtps", cfg: smtptest.Config{TLS: serverTLS, ImplicitTLS: true},
			scheme: "smtps", clientTLS: clientTLS, wantTLS: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.cfg)
			u := &url.URL{Scheme: tt.scheme, User: tt.user, Host: srv.Addr()}
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

			assertDelivered(t, srv, email, rcpt, tt.wantUser, tt.wantTLS)
		})
	}
}

// assertDelivered checks that srv received exactly email from testFrom,
// as user (or without AUTH) over TLS or not, with the Message-ID in rcpt.
func assertDelivered(t *testing.T, srv *smtptest.Server, email Email, rcpt Receipt, user string, overTLS bool) {
	t.Helper()
	if rcpt.ProviderID == "" || rcpt.Logged {
		t.Errorf("receipt = %+v, want a ProviderID and Logged false", rcpt)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server received %d messages, want 1", len(got))
	}
	got[0].Data = nil
	want := smtptest.Message{
		MailFrom: testFrom, RcptTo: []string{email.To}, User: user, TLS: overTLS,
		From: testFrom, To: []string{email.To}, Subject: email.Subject, MessageID: rcpt.ProviderID,
		Text: email.Text, HTML: email.HTML,
	}
	if diff := cmp.Diff(want, got[0]); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}

func TestSMTPMailerFailures(t *testing.T) {
	closed := closedAddr(t)
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name          string
		cfg           *smtptest.Config // nil: no server, dial closedAddr
		user          *url.Userinfo
		to            string
		ctx           context.Context
		wantPermanent bool
	}{
		{name: "recipient rejected 550", wantPermanent: true,
			cfg: &smtptest.Config{RcptErr: smtpErr(550, smtp.EnhancedCode{5, 1, 1}, "No such user")}},
		{name: "message rejected 554", wantPermanent: true,
			cfg: &smtptest.Config{DataErr: smtpErr(554, smtp.EnhancedCode{5, 7, 1}, "Rejected as spam")}},
		{name: "invalid address", to: "not an address", wantPermanent: true, cfg: &smtptest.Config{}},
		{name: "recipient deferred 451",
			cfg: &smtptest.Config{RcptErr: smtpErr(451, smtp.EnhancedCode{4, 3, 0}, "Try again later")}},
		{name: "wrong password", user: url.UserPassword("mailer", "wrong"),
			cfg: &smtptest.Config{User: "mailer", Pass: "right"}},
		{name: "auth required, none configured", cfg: &smtptest.Config{User: "mailer", Pass: "right"}},
		{name: "connection refused"},
		{name: "context canceled", ctx: canceled, cfg: &smtptest.Config{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := closed
			var srv *smtptest.Server
			if tt.cfg != nil {
				srv = smtptest.Start(t, *tt.cfg)
				addr = srv.Addr()
			}
			m, err := NewSMTPMailer(&url.URL{Scheme: "smtp", User: tt.user, Host: addr}, testFrom)
			if err != nil {
				t.Fatalf("NewSMTPMailer: %v", err)
			}
			assertEmailFails(t, tt.ctx, m, tt.to, tt.wantPermanent)
			if srv != nil && len(srv.Messages()) != 0 {
				t.Errorf("server accepted %d messages, want none", len(srv.Messages()))
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

// smtpErr is a reply the SMTP server gives, as an error.
func smtpErr(code int, enhanced smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}
