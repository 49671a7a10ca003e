package smtptest_test

import (
	"net/smtp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/notifications/smtptest"
)

func TestParsesMessages(t *testing.T) {
	tests := []struct {
		name string
		data string
		want smtptest.Message
	}{
		{
			name: "plain text, base64",
			data: "From: Bookings <bookings@example.com>\r\nTo: jane@example.com\r\n" +
				"Subject: =?UTF-8?q?Caf=C3=A9_booked?=\r\nMessage-ID: <1@example.com>\r\n" +
				"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
				"SGVsbG8sCkphbmUu\r\n",
			want: smtptest.Message{From: "bookings@example.com", To: []string{"jane@example.com"},
				Subject: "Café booked", MessageID: "<1@example.com>", Text: "Hello,\nJane."},
		},
		{
			name: "mixed around alternative, quoted-printable",
			data: "From: bookings@example.com\r\nTo: Jane <jane@example.com>, bob@example.com\r\n" +
				"Subject: Hi\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=outer\r\n\r\n" +
				"--outer\r\nContent-Type: multipart/alternative; boundary=inner\r\n\r\n" +
				"--inner\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
				"Your $60.00 deposit =\r\nhas been refunded=2E\r\n" +
				"--inner\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Refunded</p>\r\n" +
				"--inner--\r\n--outer--\r\n",
			want: smtptest.Message{From: "bookings@example.com", To: []string{"jane@example.com", "bob@example.com"},
				Subject: "Hi", Text: "Your $60.00 deposit has been refunded.", HTML: "<p>Refunded</p>"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, smtptest.Config{User: "u", Pass: "p"})
			auth := smtp.PlainAuth("", "u", "p", "127.0.0.1")
			if err := smtp.SendMail(srv.Addr(), auth, "bounce@example.com", []string{"jane@example.com"},
				[]byte(tt.data)); err != nil {
				t.Fatalf("SendMail: %v", err)
			}
			got := srv.MessagesTo("jane@example.com")
			if len(got) != 1 {
				t.Fatalf("got %d messages to jane, want 1", len(got))
			}
			if !strings.HasPrefix(string(got[0].Data), "From: ") {
				t.Errorf("Data does not hold the message: %q", got[0].Data)
			}
			got[0].Data = nil
			want := tt.want
			want.MailFrom, want.RcptTo, want.User = "bounce@example.com", []string{"jane@example.com"}, "u"
			if diff := cmp.Diff(want, got[0]); diff != "" {
				t.Errorf("message (-want +got):\n%s", diff)
			}
		})
	}
}

func TestURL(t *testing.T) {
	serverTLS, _ := smtptest.NewTLS(t)
	tests := []struct {
		name   string
		cfg    smtptest.Config
		prefix string
	}{
		{"plain", smtptest.Config{}, "smtp://127.0.0.1:"},
		{"auth", smtptest.Config{User: "mailer", Pass: "p@ss"}, "smtp://mailer:p%40ss@127.0.0.1:"},
		{"implicit TLS", smtptest.Config{TLS: serverTLS, ImplicitTLS: true}, "smtps://127.0.0.1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.Start(t, tt.cfg)
			_, port, _ := strings.Cut(srv.Addr(), ":")
			if diff := cmp.Diff(tt.prefix+port, srv.URL()); diff != "" {
				t.Errorf("URL (-want +got):\n%s", diff)
			}
		})
	}
}
