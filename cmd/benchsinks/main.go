// Command benchsinks runs the two providers the workers talk to, for
// `make bench`: a Twilio Messages API double (POST
// .../Accounts/{sid}/Messages.json answers 201 with a message resource)
// on TWILIO_ADDR and an SMTP sink accepting every message on SMTP_ADDR.
// Both count what they took; on SIGTERM it prints the counts and exits.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchsinks:", err)
		os.Exit(1)
	}
}

// counts is what the sinks took.
type counts struct{ sms, email atomic.Int64 }

func run(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	tw, sm := getenv("TWILIO_ADDR"), getenv("SMTP_ADDR")
	if tw == "" || sm == "" {
		return fmt.Errorf("set TWILIO_ADDR and SMTP_ADDR (host:port)")
	}
	var c counts
	hs := &http.Server{Addr: tw, Handler: twilio(&c), ReadHeaderTimeout: 10 * time.Second}
	ss := smtp.NewServer(backend{&c})
	ss.Addr, ss.Domain, ss.AllowInsecureAuth = sm, "localhost", true
	errc := make(chan error, 2)
	go func() { errc <- hs.ListenAndServe() }()
	go func() { errc <- ss.ListenAndServe() }()
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	hs.Close()
	ss.Close()
	fmt.Fprintf(stdout, "sms %d email %d\n", c.sms.Load(), c.email.Load())
	return err
}

// twilio answers message creation like Twilio does.
func twilio(c *counts) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/Messages.json") {
			http.NotFound(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		c.sms.Add(1)
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		sid := "SM" + hex.EncodeToString(b)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"sid": sid, "status": "queued", "to": r.PostForm.Get("To"), "from": r.PostForm.Get("From"),
			"body": r.PostForm.Get("Body"), "api_version": "2010-04-01", "num_segments": "1",
		})
	})
}

type backend struct{ c *counts }

func (b backend) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{b.c}, nil }

// session accepts every envelope and counts each message's DATA.
type session struct{ c *counts }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *session) Reset()                               {}
func (s *session) Logout() error                        { return nil }
func (s *session) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	s.c.email.Add(1)
	return nil
}
