package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/sqlite"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/notifications/smtptest"
	"github.com/reserveeasy/gateway/notifications/twiliotest"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/verify"
)

// TestLogsNeverCarrySecretsOrContacts runs the gateway through payments,
// messages and a failed SMS with JSON logs at debug level, then reads every
// line: no secret, signature, phone number or email address appears, and
// the lines about an event carry its ids.
func TestLogsNeverCarrySecretsOrContacts(t *testing.T) {
	const (
		stripeSecret = "whsec_LEAKCHECKstripe"
		twilioToken  = "LEAKCHECKtwiliotoken"
		smtpPass     = "LEAKCHECKsmtppass"
		opsPass      = "LEAKCHECKopspass"
		phone        = "+15557654321"
		email        = "leak.check@example.com"
	)
	mail := smtptest.Start(t, smtptest.Config{User: "mailer", Pass: smtpPass})
	sms := twiliotest.Start(t, twiliotest.Config{})
	dbPath := filepath.Join(t.TempDir(), "gw.db")
	addr := freeAddr(t)
	g := startGateway(t, []string{"serve"}, map[string]string{
		"HTTP_ADDR": addr, "PUBLIC_BASE_URL": "http://" + addr,
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": "sqlite:" + dbPath,
		"STRIPE_WEBHOOK_SECRET": stripeSecret, "TWILIO_AUTH_TOKEN": twilioToken,
		"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_FROM_NUMBER": "+15550001111",
		"TWILIO_API_BASE_URL": sms.URL(), "SMTP_URL": mail.URL(), "SUPPORT_EMAIL": "support@example.com",
		"OPS_USERNAME": "ops", "OPS_PASSWORD": opsPass, "LOG_FORMAT": "json", "LOG_LEVEL": "debug",
	})
	store, err := sqlite.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	b, err := store.CreateBooking(context.Background(), bookings.Booking{CustomerName: "Leak Check",
		CustomerPhone: phone, CustomerEmail: email, Status: bookings.StatusPaymentPending,
		DepositAmount: 6000, DepositCurrency: "usd"})
	if err != nil {
		t.Fatal(err)
	}
	var sigs []string
	for i, typ := range []string{"payment_intent.succeeded", "charge.refunded"} {
		body := fmt.Sprintf(`{"id":"evt_leak_%d","object":"event","type":%q,"data":{"object":{"id":"pi_leak","object":"payment_intent","amount":6000,"amount_refunded":6000,"currency":"usd","metadata":{"booking_id":"%d"}}}}`, i, typ, b.ID)
		sig := verify.SignStripe([]byte(body), stripeSecret, time.Now())
		sigs = append(sigs, sig)
		if code, resp := g.do(http.MethodPost, handlers.StripePath, "application/json", http.Header{"Stripe-Signature": {sig}}, body); code != http.StatusOK {
			t.Fatalf("%s: %d %s", typ, code, resp)
		}
	}
	eventually(t, 20*time.Second, func() string {
		if got, _ := store.Booking(context.Background(), b.ID); got.SMSMessageSID == "" || !got.DepositRefunded {
			return "payment and refund not applied yet"
		}
		return ""
	})
	got, _ := store.Booking(context.Background(), b.ID)
	form := url.Values{"MessageSid": {got.SMSMessageSID}, "MessageStatus": {"undelivered"}, "To": {phone}, "ErrorCode": {"30006"}}
	tsig := verify.SignTwilio(twilioToken, "http://"+addr+handlers.TwilioPath, form)
	sigs = append(sigs, tsig)
	if code, resp := g.do(http.MethodPost, handlers.TwilioPath, "application/x-www-form-urlencoded", http.Header{"X-Twilio-Signature": {tsig}}, form.Encode()); code != http.StatusOK {
		t.Fatalf("twilio: %d %s", code, resp)
	}
	// A forged request is logged as rejected, without its signature.
	g.do(http.MethodPost, handlers.StripePath, "application/json", http.Header{"Stripe-Signature": {"t=1,v1=deadbeefLEAK"}}, `{}`)
	eventually(t, 20*time.Second, func() string {
		if n := len(mail.MessagesTo("support@example.com")); n != 1 {
			return fmt.Sprintf("support alerts: %d", n)
		}
		return ""
	})
	g.stop()

	logs := g.stderr.String()
	forbidden := append([]string{stripeSecret, twilioToken, smtpPass, opsPass, phone, strings.TrimPrefix(phone, "+1"), email, "deadbeefLEAK"}, sigs...)
	for _, s := range forbidden {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q", s)
		}
	}
	if !strings.Contains(logs, "+1******4321") {
		t.Error("the failed SMS's log line lacks the masked phone number")
	}
	lines := strings.Split(strings.TrimSpace(logs), "\n")
	withIDs := map[string]bool{}
	for _, line := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %s", line)
			continue
		}
		for _, k := range []string{"provider", "event_id", "task_id", "booking_id"} {
			if rec[k] != nil {
				withIDs[k] = true
			}
		}
	}
	for _, k := range []string{"provider", "event_id", "task_id", "booking_id"} {
		if !withIDs[k] {
			t.Errorf("no log line carries %s", k)
		}
	}
}
