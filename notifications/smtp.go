package notifications

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// smtpTimeout bounds connecting to the SMTP server and each command on it.
const smtpTimeout = 10 * time.Second

// SMTPMailer sends multipart (plain text and HTML) emails through an SMTP
// server with github.com/wneessen/go-mail. It opens one connection per email
// and is safe for concurrent use.
type SMTPMailer struct {
	host       string
	from       string
	fromDomain string
	opts       []gomail.Option
	// noAuth is opts without the credentials, for a server that offers no
	// AUTH (a local sink such as mailpit) although SMTP_URL carries some.
	noAuth []gomail.Option
}

var _ Mailer = (*SMTPMailer)(nil)

// NewSMTPMailer returns a mailer for smtpURL with the From address from.
//
// smtp://user:pass@host:port uses STARTTLS when the server offers it (port
// 587 when none is given); smtps://user:pass@host:port uses implicit TLS
// (port 465). Without userinfo no authentication is attempted; with it the
// mailer prefers PLAIN, then LOGIN, and never sends a password in clear
// text except to localhost. Connecting and each command time out after 10s.
func NewSMTPMailer(smtpURL *url.URL, from string) (*SMTPMailer, error) {
	return newSMTPMailer(smtpURL, from, nil)
}

// newSMTPMailer is NewSMTPMailer with a TLS configuration for tests (nil:
// verify the server's certificate against the system roots).
func newSMTPMailer(u *url.URL, from string, tlsConfig *tls.Config) (*SMTPMailer, error) {
	if u == nil {
		return nil, errors.New("new smtp mailer: no SMTP URL")
	}
	addr, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("new smtp mailer: parse from address %q: %w", from, err)
	}
	noAuth, err := smtpOptions(u, tlsConfig)
	if err != nil {
		return nil, fmt.Errorf("new smtp mailer: %w", err)
	}
	opts := append(noAuth[:len(noAuth):len(noAuth)], authOptions(u)...)
	// Fail now, not on the first email, if go-mail rejects the options.
	if _, err := gomail.NewClient(u.Hostname(), opts...); err != nil {
		return nil, fmt.Errorf("new smtp mailer: %w", err)
	}
	domain := addr.Address[strings.LastIndexByte(addr.Address, '@')+1:]
	return &SMTPMailer{host: u.Hostname(), from: from, fromDomain: domain, opts: opts, noAuth: noAuth}, nil
}

// smtpOptions turns an smtp:// or smtps:// URL into go-mail options.
func smtpOptions(u *url.URL, tlsConfig *tls.Config) ([]gomail.Option, error) {
	if u.Hostname() == "" {
		return nil, errors.New("SMTP URL has no host")
	}
	opts := []gomail.Option{gomail.WithTimeout(smtpTimeout)}
	var port int
	switch u.Scheme {
	case "smtp":
		port = gomail.DefaultPortTLS
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "smtps":
		port = gomail.DefaultPortSSL
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("SMTP URL scheme %q is not smtp or smtps", u.Scheme)
	}
	if p := u.Port(); p != "" {
		var err error
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("parse SMTP port %q: %w", p, err)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if tlsConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(tlsConfig))
	}
	return opts, nil
}

// authOptions are the credentials of the URL, if it carries any.
func authOptions(u *url.URL) []gomail.Option {
	if u.User == nil {
		return nil
	}
	pass, _ := u.User.Password()
	return []gomail.Option{gomail.WithUsername(u.User.Username()), gomail.WithPassword(pass),
		gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin)}
}

// SendEmail sends m and returns its Message-ID header as the ProviderID.
// Once the server has accepted the message, SendEmail reports success even
// if closing the session then fails, so that the caller does not send it
// twice.
func (s *SMTPMailer) SendEmail(ctx context.Context, m Email) (Receipt, error) {
	msg, err := s.message(m)
	if err != nil {
		return Receipt{}, redact(fmt.Errorf("build email to %s: %w", m.To, err), m.To, MaskEmail(m.To))
	}
	// A fresh client per email: go-mail's Client keeps per-connection state
	// (the negotiated auth type) that must not be shared between goroutines.
	err = s.send(ctx, msg, s.opts)
	if err != nil && !msg.IsDelivered() && len(s.opts) > len(s.noAuth) && strings.Contains(err.Error(), "does not support SMTP AUTH") {
		err = s.send(ctx, msg, s.noAuth) // the server asks for no credentials
	}
	if err != nil && !msg.IsDelivered() {
		err = classifySMTP(err)
		return Receipt{}, redact(fmt.Errorf("send email to %s: %w", m.To, err), m.To, MaskEmail(m.To))
	}
	// The server accepted the message; a failure after that (RSET, QUIT)
	// must not make the caller send it again.
	return Receipt{ProviderID: msg.GetMessageID()}, nil
}

// send dials the server with opts and sends msg.
func (s *SMTPMailer) send(ctx context.Context, msg *gomail.Msg, opts []gomail.Option) error {
	client, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("create smtp client: %w", err)
	}
	return client.DialAndSendWithContext(ctx, msg)
}

// message builds the go-mail message for m. An invalid recipient is
// permanent.
func (s *SMTPMailer) message(m Email) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("set from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("set recipient: %w: %w", ErrPermanent, err)
	}
	msg.Subject(m.Subject)
	local := m.MessageID
	if local == "" {
		local = randomID()
	}
	msg.SetMessageIDWithValue(local + "@" + s.fromDomain)
	msg.SetUserAgent("ReserveEasy gateway")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	return msg, nil
}

// classifySMTP wraps ErrPermanent around a 5xx reply to RCPT TO or DATA:
// the server refuses this recipient or this message, and will again. A 5xx
// elsewhere (MAIL FROM, AUTH) is our configuration, fixable by the operator,
// so it stays transient like 4xx replies and network errors before DATA. A
// failure without a reply once DATA was sent (a timeout, a reset) is
// ErrAmbiguous: the server may have queued the message.
func classifySMTP(err error) error {
	var sendErr *gomail.SendError
	if !errors.As(err, &sendErr) {
		return err
	}
	code := sendErr.ErrorCode()
	noReply := code == 0 && (sendErr.Reason == gomail.ErrSMTPData || sendErr.Reason == gomail.ErrSMTPDataClose)
	if !sendErr.IsTemp() && code >= 500 && code <= 599 {
		switch sendErr.Reason {
		case gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			return fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		return err
	}
	if noReply {
		return fmt.Errorf("%w: %w", ErrAmbiguous, err)
	}
	return err
}

// randomID returns 128 random bits in hex, the local part of a Message-ID.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
