package notifications

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	twclient "github.com/twilio/twilio-go/client"

	"github.com/reserveeasy/gateway/notifications/twiliotest"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
)

func TestTwilioTexterSends(t *testing.T) {
	tests := []struct {
		name     string
		prefix   string // path of the base URL
		callback string
	}{
		{name: "with status callback", callback: "https://api.reserveeasy.com/api/v1/webhooks/twilio/sms-status"},
		{name: "without status callback"},
		{name: "base URL with a path", prefix: "/twilio/", callback: "https://example.com/cb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := twiliotest.Start(t, twiliotest.Config{AccountSID: testSID, AuthToken: testToken})
			tx, err := NewTwilioTexter(testSID, testToken, "+15557122661", srv.URL()+tt.prefix)
			if err != nil {
				t.Fatalf("NewTwilioTexter: %v", err)
			}
			sms := SMS{To: "+15559876543", Body: "ReserveEasy: your booking #12 is confirmed.",
				StatusCallback: tt.callback}

			got, err := tx.SendSMS(context.Background(), sms)
			if err != nil {
				t.Fatalf("SendSMS: %v", err)
			}

			msgs := srv.Messages()
			if len(msgs) != 1 {
				t.Fatalf("Twilio created %d messages, want 1", len(msgs))
			}
			if diff := cmp.Diff(Receipt{ProviderID: msgs[0].SID}, got); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
			form := url.Values{"From": {"+15557122661"}, "To": {sms.To}, "Body": {sms.Body}}
			if tt.callback != "" {
				form.Set("StatusCallback", tt.callback)
			}
			want := []twiliotest.Request{{Method: http.MethodPost,
				Path: strings.TrimSuffix(tt.prefix, "/") + "/2010-04-01/Accounts/" + testSID + "/Messages.json",
				User: testSID, Pass: testToken, Form: form, Status: http.StatusCreated}}
			if diff := cmp.Diff(want, srv.Requests()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTwilioTexterFailures(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		body          string
		wantPermanent bool
		wantAmbiguous bool
		wantCode      int // Twilio error code reachable with errors.As, 0: none
	}{
		{name: "invalid To number", status: 400, wantPermanent: true, wantCode: 21211,
			body: `{"code": 21211, "message": "The 'To' number +15005550001 is not a valid phone number.",
 "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`},
		{name: "invalid To number quoted without +", status: 400, wantPermanent: true, wantCode: 21211,
			body: `{"code": 21211, "message": "Invalid 'To' Phone Number: 15005550001",
 "more_info": "https://www.twilio.com/docs/errors/21211", "status": 400}`},
		{name: "unsubscribed recipient", status: 400, wantPermanent: true, wantCode: 21610,
			body: `{"code": 21610, "message": "Attempt to send to unsubscribed recipient",
 "more_info": "https://www.twilio.com/docs/errors/21610", "status": 400}`},
		{name: "bad credentials", status: 401, wantCode: 20003,
			body: `{"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401}`},
		{name: "too many requests", status: 429, wantCode: 20429,
			body: `{"code": 20429, "message": "Too Many Requests", "more_info": "https://www.twilio.com/docs/errors/20429", "status": 429}`},
		{name: "internal error", status: 500, wantCode: 20500, wantAmbiguous: true,
			body: `{"code": 20500, "message": "Internal Server Error", "more_info": "https://www.twilio.com/docs/errors/20500", "status": 500}`},
		{name: "unavailable, not JSON", status: 503, wantAmbiguous: true, body: "<html><body>Service Unavailable</body></html>"},
		{name: "success without sid", status: 201, wantAmbiguous: true, body: `{"status": "queued"}`},
		{name: "told to fail with 400", status: 400, wantPermanent: true, wantCode: 21211},
		{name: "told to fail with 503", status: 503, wantCode: 20503, wantAmbiguous: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := twiliotest.Start(t, twiliotest.Config{})
			if tt.body == "" {
				srv.Fail(tt.status)
			} else {
				srv.Answer(tt.status, tt.body)
			}
			tx, err := NewTwilioTexter(testSID, testToken, "+15557122661", srv.URL())
			if err != nil {
				t.Fatalf("NewTwilioTexter: %v", err)
			}
			err = assertSMSFails(t, context.Background(), tx, tt.wantPermanent, tt.wantAmbiguous)
			var apiErr *twclient.TwilioRestError
			gotCode := 0
			if errors.As(err, &apiErr) {
				gotCode = apiErr.Code
			}
			if gotCode != tt.wantCode {
				t.Errorf("Twilio error code = %d, want %d", gotCode, tt.wantCode)
			}
		})
	}
}

func TestTwilioTexterWrongToken(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Config{AccountSID: testSID, AuthToken: testToken})
	tx, err := NewTwilioTexter(testSID, "wrongtoken", "+15557122661", srv.URL())
	if err != nil {
		t.Fatalf("NewTwilioTexter: %v", err)
	}
	err = assertSMSFails(t, context.Background(), tx, false, false)
	var apiErr *twclient.TwilioRestError
	if !errors.As(err, &apiErr) || apiErr.Code != 20003 {
		t.Errorf("err = %v, want Twilio error 20003", err)
	}
	if n := len(srv.Messages()); n != 0 {
		t.Errorf("Twilio created %d messages, want 0", n)
	}
}

func TestTwilioTexterUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	tx, err := NewTwilioTexter(testSID, testToken, "+15557122661", srv.URL)
	if err != nil {
		t.Fatalf("NewTwilioTexter: %v", err)
	}
	assertSMSFails(t, context.Background(), tx, false, false) // never written: safe to retry
}

func TestTwilioTexterHonoursContext(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: never leave the handler hanging
	tx, err := NewTwilioTexter(testSID, testToken, "+15557122661", srv.URL)
	if err != nil {
		t.Fatalf("NewTwilioTexter: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-entered
		cancel()
	}()
	err = assertSMSFails(t, ctx, tx, false, true) // written, then given up on
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNewTwilioTexterRejects(t *testing.T) {
	tests := []struct{ name, sid, token, from, base string }{
		{"empty sid", "", testToken, "+15557122661", ""},
		{"token with symbols", testSID, "tok-en", "+15557122661", ""},
		{"empty from", testSID, testToken, "", ""},
		{"relative base URL", testSID, testToken, "+15557122661", "/twilio"},
		{"ftp base URL", testSID, testToken, "+15557122661", "ftp://example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewTwilioTexter(tt.sid, tt.token, tt.from, tt.base); err == nil {
				t.Error("NewTwilioTexter succeeded, want an error")
			}
		})
	}
}

// assertSMSFails sends an SMS through tx, checks that it fails, permanently
// or not, without showing the number, and returns the error.
func assertSMSFails(t *testing.T, ctx context.Context, tx *TwilioTexter, wantPermanent, wantAmbiguous bool) error {
	t.Helper()
	const to = "+15005550001"
	_, err := tx.SendSMS(ctx, SMS{To: to, Body: "Hello"})
	if err == nil {
		t.Fatal("SendSMS succeeded, want an error")
	}
	t.Logf("err: %v", err)
	if got := errors.Is(err, ErrPermanent); got != wantPermanent {
		t.Errorf("errors.Is(err, ErrPermanent) = %v, want %v; err: %v", got, wantPermanent, err)
	}
	if got := errors.Is(err, ErrAmbiguous); got != wantAmbiguous {
		t.Errorf("errors.Is(err, ErrAmbiguous) = %v, want %v; err: %v", got, wantAmbiguous, err)
	}
	if strings.Contains(err.Error(), strings.TrimPrefix(to, "+")) {
		t.Errorf("error shows the number %q: %v", to, err)
	}
	return err
}

func TestTwilioTexterFetchesMessage(t *testing.T) {
	srv := twiliotest.Start(t, twiliotest.Config{AccountSID: testSID, AuthToken: testToken})
	tx, err := NewTwilioTexter(testSID, testToken, "+15557122661", srv.URL()+"/proxy")
	if err != nil {
		t.Fatal(err)
	}
	rcpt, err := tx.SendSMS(t.Context(), SMS{To: "+15559876543", Body: "Booked"})
	if err != nil {
		t.Fatal(err)
	}
	srv.SetStatus(rcpt.ProviderID, "failed", 30008)
	got, err := tx.FetchMessage(t.Context(), rcpt.ProviderID)
	if err != nil {
		t.Fatalf("FetchMessage: %v", err)
	}
	want := MessageState{SID: rcpt.ProviderID, Status: "failed", To: "+15559876543", From: "+15557122661", ErrorCode: "30008"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FetchMessage (-want +got):\n%s", diff)
	}
	if _, err := tx.FetchMessage(t.Context(), "SM00000000000000000000000000000000"); !errors.Is(err, ErrNoSuchMessage) {
		t.Errorf("FetchMessage of an unknown sid = %v, want ErrNoSuchMessage", err)
	}
	srv.Fail(http.StatusInternalServerError)
	if _, err := tx.FetchMessage(t.Context(), rcpt.ProviderID); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("FetchMessage on a 500 = %v, want a transient error", err)
	}
}
