package notifications

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// fakeSMTPConfig says how a fake SMTP server behaves.
type fakeSMTPConfig struct {
	user, pass  string      // require AUTH PLAIN with these when user is set
	rcptErr     error       // the reply to every RCPT TO, nil: accept
	dataErr     error       // the reply to DATA, nil: accept
	tls         *tls.Config // offer STARTTLS (or, with implicitTLS, speak TLS) with it
	implicitTLS bool
}

// receivedMail is one message a fake SMTP server accepted.
type receivedMail struct {
	From string // envelope sender
	To   []string
	User string // authenticated user, "" without AUTH
	TLS  bool
	Data []byte
}

// fakeSMTP is a real go-smtp server on 127.0.0.1 that records what it is
// sent.
type fakeSMTP struct {
	addr string
	cfg  fakeSMTPConfig

	mu   sync.Mutex
	mail []receivedMail
}

// startSMTP starts a fake SMTP server that stops when the test ends.
func startSMTP(t *testing.T, cfg fakeSMTPConfig) *fakeSMTP {
	t.Helper()
	f := &fakeSMTP{cfg: cfg}
	s := smtp.NewServer(f)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout = 10 * time.Second
	s.WriteTimeout = 10 * time.Second
	s.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	if cfg.implicitTLS {
		ln = tls.NewListener(ln, cfg.tls)
	} else {
		s.TLSConfig = cfg.tls
	}
	f.addr = ln.Addr().String()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = s.Serve(ln)
	}()
	t.Cleanup(func() {
		s.Close()
		ln.Close() // in case Close ran before Serve registered ln
		<-done
	})
	return f
}

// received returns the messages accepted so far.
func (f *fakeSMTP) received() []receivedMail {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]receivedMail(nil), f.mail...)
}

// NewSession implements smtp.Backend.
func (f *fakeSMTP) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &fakeSession{f: f, conn: c}, nil
}

type fakeSession struct {
	f    *fakeSMTP
	conn *smtp.Conn
	user string
	cur  receivedMail
}

func (s *fakeSession) AuthMechanisms() []string {
	if s.f.cfg.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *fakeSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != s.f.cfg.user || pass != s.f.cfg.pass {
			return smtp.ErrAuthFailed
		}
		s.user = user
		return nil
	}), nil
}

func (s *fakeSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.f.cfg.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = receivedMail{From: from}
	return nil
}

func (s *fakeSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.f.cfg.rcptErr != nil {
		return s.f.cfg.rcptErr
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *fakeSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.f.cfg.dataErr != nil {
		return s.f.cfg.dataErr
	}
	s.cur.Data = data
	s.cur.User = s.user
	_, s.cur.TLS = s.conn.TLSConnectionState()
	s.f.mu.Lock()
	s.f.mail = append(s.f.mail, s.cur)
	s.f.mu.Unlock()
	return nil
}

func (s *fakeSession) Reset()        { s.cur = receivedMail{} }
func (s *fakeSession) Logout() error { return nil }

// testTLS returns a server configuration with a fresh self-signed
// certificate for 127.0.0.1 and a client configuration that trusts it.
func testTLS(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("parse certificate: %v", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}
	return server, client
}

// smtpErr is a reply a fake SMTP server gives, as an error.
func smtpErr(code int, enhanced smtp.EnhancedCode, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: msg}
}
