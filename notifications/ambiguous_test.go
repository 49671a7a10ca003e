package notifications

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/notifications/smtptest"
	"github.com/reserveeasy/gateway/notifications/twiliotest"
)

// TestTwilioTexterTakenThenDropped: Twilio takes the message and the answer
// never arrives; the error is ambiguous and FindSMS finds the message.
func TestTwilioTexterTakenThenDropped(t *testing.T) {
	const to, from = "+15005550006", "+15557122661"
	for _, tt := range []struct {
		name  string
		fault twiliotest.Fault
		wait  time.Duration
	}{
		{"connection reset", twiliotest.Reset, 10 * time.Second},
		{"timeout", twiliotest.Hang, 300 * time.Millisecond},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := twiliotest.Start(t, twiliotest.Config{})
			tx, err := NewTwilioTexter(testSID, testToken, from, srv.URL())
			if err != nil {
				t.Fatal(err)
			}
			since := time.Now().Add(-time.Minute)
			if _, err := tx.SendSMS(t.Context(), SMS{To: to, Body: "other message"}); err != nil {
				t.Fatal(err)
			}
			srv.TakeThen(tt.fault)
			ctx, cancel := context.WithTimeout(t.Context(), tt.wait)
			defer cancel()
			_, err = tx.SendSMS(ctx, SMS{To: to, Body: "Your table is booked"})
			if !errors.Is(err, ErrAmbiguous) || errors.Is(err, ErrPermanent) {
				t.Fatalf("err = %v, want ErrAmbiguous", err)
			}
			msgs := srv.Messages()
			if len(msgs) != 2 {
				t.Fatalf("Twilio has %d messages, want 2", len(msgs))
			}
			rcpt, ok, err := tx.FindSMS(t.Context(), to, "Your table is booked", since)
			if err != nil || !ok || rcpt.ProviderID != msgs[1].SID {
				t.Errorf("FindSMS = %+v, %v, %v; want %s", rcpt, ok, err, msgs[1].SID)
			}
			if _, ok, err := tx.FindSMS(t.Context(), to, "Your table is booked", time.Now().Add(time.Minute)); ok || err != nil {
				t.Errorf("FindSMS since later = %v, %v; want not found", ok, err)
			}
			if _, ok, err := tx.FindSMS(t.Context(), "+15005550009", "Your table is booked", since); ok || err != nil {
				t.Errorf("FindSMS to another number = %v, %v; want not found", ok, err)
			}
		})
	}
}

// TestTwilioTexterFindsQueuedMessage: Twilio took the message but has not
// sent it yet (no date_sent, so the DateSent> list misses it); the lookup
// still finds it among the newest.
func TestTwilioTexterFindsQueuedMessage(t *testing.T) {
	const to = "+15005550006"
	srv := twiliotest.Start(t, twiliotest.Config{})
	tx, err := NewTwilioTexter(testSID, testToken, "+15557122661", srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	since := time.Now().Add(-time.Minute)
	srv.HoldSending(true)
	srv.TakeThen(twiliotest.Reset)
	if _, err := tx.SendSMS(t.Context(), SMS{To: to, Body: "Your table is booked"}); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("err = %v, want ErrAmbiguous", err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !msgs[0].DateSent.IsZero() {
		t.Fatalf("messages = %+v, want one still queued", msgs)
	}
	rcpt, ok, err := tx.FindSMS(t.Context(), to, "Your table is booked", since)
	if err != nil || !ok || rcpt.ProviderID != msgs[0].SID {
		t.Errorf("FindSMS = %+v, %v, %v; want %s", rcpt, ok, err, msgs[0].SID)
	}
	if _, ok, err := tx.FindSMS(t.Context(), to, "Your table is booked", time.Now().Add(time.Minute)); ok || err != nil {
		t.Errorf("FindSMS of a queued message created before since = %v, %v; want not found", ok, err)
	}
}

// TestTwilioTexterFindsAcrossPages: the lookup follows next_page_uri.
func TestTwilioTexterFindsAcrossPages(t *testing.T) {
	const to = "+15005550006"
	srv := twiliotest.Start(t, twiliotest.Config{})
	tx, err := NewTwilioTexter(testSID, testToken, "+15557122661", srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 105 {
		if _, err := tx.SendSMS(t.Context(), SMS{To: to, Body: fmt.Sprint("message ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	rcpt, ok, err := tx.FindSMS(t.Context(), to, "message 0", time.Now().Add(-time.Minute))
	if err != nil || !ok || rcpt.ProviderID != srv.Messages()[0].SID {
		t.Errorf("FindSMS of the oldest = %+v, %v, %v; want %s", rcpt, ok, err, srv.Messages()[0].SID)
	}
	pages := 0
	for _, r := range srv.Requests() {
		if r.Method == "GET" {
			pages++
		}
	}
	if pages != 2 {
		t.Errorf("list requests = %d, want 2 pages", pages)
	}
}

// TestSMTPMailerSameMessageID: every attempt at one message carries the
// Message-ID derived from it, so mail clients collapse copies.
func TestSMTPMailerSameMessageID(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Config{})
	m, err := newSMTPMailer(&url.URL{Scheme: "smtp", Host: srv.Addr()}, testFrom, nil)
	if err != nil {
		t.Fatal(err)
	}
	email := Email{To: "jane@example.com", Subject: "Refund", Text: "Refunded", MessageID: "41.12.0a1b2c3d4e5f6071"}
	for range 2 {
		if _, err := m.SendEmail(t.Context(), email); err != nil {
			t.Fatal(err)
		}
	}
	other := email
	other.MessageID = ""
	if _, err := m.SendEmail(t.Context(), other); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("server got %d messages, want 3", len(msgs))
	}
	want := "<41.12.0a1b2c3d4e5f6071@reserveeasy.local>"
	if msgs[0].MessageID != want || msgs[1].MessageID != want {
		t.Errorf("Message-IDs = %q, %q; want %q twice", msgs[0].MessageID, msgs[1].MessageID, want)
	}
	if msgs[2].MessageID == want || msgs[2].MessageID == "" {
		t.Errorf("Message-ID without a key = %q, want a random one", msgs[2].MessageID)
	}
}
