package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

const (
	piiOpsUser = "ops"
	piiOpsPass = "pii-ops-password"
)

// TestStoryLogsCarryNoPersonalData runs a payment succeeded (SMS), an SMS
// undelivered (fallback email and support alert), a payment failed (email,
// then the auto-cancel) and a refund through `gateway serve` at debug
// level, once with SMTP and Twilio configured and once with neither (the
// log mailer and texter). Neither stdout nor stderr may then carry a
// customer's name, email address or phone number, a line of a message body
// or a client_secret; the ops UI's API shows the task payloads masked.
func TestStoryLogsCarryNoPersonalData(t *testing.T) {
	base := map[string]string{"LOG_LEVEL": "debug", "OPS_USERNAME": piiOpsUser, "OPS_PASSWORD": piiOpsPass}
	modes := []struct {
		name      string
		env       map[string]string
		providers bool
	}{
		{name: "providers", env: map[string]string{}, providers: true},
		{name: "log only", env: map[string]string{"SMTP_URL": "", "TWILIO_ACCOUNT_SID": "", "TWILIO_FROM_NUMBER": ""}},
	}
	for i, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			for k, v := range base {
				m.env[k] = v
			}
			e := startE2EWith(t, "postgres", m.env)
			tag := func(n int) string { return fmt.Sprintf("pii%d%d", i, n) }
			paid := e.newStory(t, tag(1), 1, bookings.StatusPaymentPending)
			failed := e.newStory(t, tag(2), 2, bookings.StatusConfirmed)
			refunded := e.newStory(t, tag(3), 3, bookings.StatusPaymentPending)

			paid.stripe("paid", "payment_intent.succeeded", paid.richPaymentIntent("succeeded"), 1)
			if m.providers {
				paid.sms("sent", "", 1)
				paid.sms("undelivered", "30006", 1)
			} else {
				// No SMS was sent, so no sid was stored: the callback
				// finds the booking by its phone number.
				paid.smsFor("SM"+paid.tag, "undelivered", "30006", 1)
			}
			failed.stripe("failed", "payment_intent.payment_failed", failed.richPaymentIntent("requires_payment_method"), 1)
			refunded.stripe("paid", "payment_intent.succeeded", refunded.richPaymentIntent("succeeded"), 1)
			refunded.stripe("refunded", "charge.refunded", refunded.richCharge(), 1)

			paid.awaitMessages(3)
			failed.awaitMessages(2) // payment failed, then cancelled
			refunded.awaitMessages(2)

			stories := []*story{paid, failed, refunded}
			var forbidden []string
			for _, s := range stories {
				forbidden = append(forbidden, s.personalData()...)
			}
			tasks := 5 // paid, undelivered, failed, paid, refunded
			if m.providers {
				tasks++ // sent
			}
			e.assertOpsMasked(t, paid, tasks, forbidden)
			e.g.stop()
			for name, out := range map[string]string{"stdout": e.g.stdout.String(), "stderr": e.g.stderr.String()} {
				for _, f := range forbidden {
					if strings.Contains(out, f) {
						t.Errorf("%s contains %q", name, f)
					}
				}
			}
		})
	}
}

// clientSecret is the client_secret of the story's PaymentIntent.
func (s *story) clientSecret() string { return s.pi + "_secret_LEAK" + s.tag }

// customerName is the name the story's booking was inserted with.
func (s *story) customerName() string { return "Ada " + s.tag }

// contact is the customer as Stripe shows it in billing_details and
// shipping.
func (s *story) contact(withEmail bool) map[string]any {
	c := map[string]any{"name": s.customerName(), "phone": s.phone, "address": map[string]any{
		"line1": "1 Main Street", "city": "Springfield", "postal_code": "12345", "country": "US"}}
	if withEmail {
		c["email"] = s.email
	}
	return c
}

// richPaymentIntent is paymentIntent with what real ones carry besides:
// the client_secret, the receipt email, shipping, the customer in the
// metadata and, for a failure, the payment method's billing details.
func (s *story) richPaymentIntent(status string) map[string]any {
	pi := s.paymentIntent(status)
	pi["client_secret"] = s.clientSecret()
	pi["receipt_email"] = s.email
	pi["shipping"] = s.contact(false)
	pi["description"] = "Deposit for " + s.customerName()
	pi["metadata"] = map[string]string{"booking_id": strconv.FormatInt(s.id, 10),
		"customer_name": s.customerName(), "customer_email": s.email}
	if lpe, ok := pi["last_payment_error"].(map[string]any); ok {
		lpe["payment_method"] = map[string]any{"id": "pm_" + s.tag, "object": "payment_method",
			"billing_details": s.contact(true)}
	}
	return pi
}

// richCharge is the refunded charge of the story's PaymentIntent.
func (s *story) richCharge() map[string]any {
	return map[string]any{"id": "ch_" + s.tag, "object": "charge", "amount": 6000, "amount_refunded": 6000,
		"currency": "usd", "payment_intent": s.pi, "refunded": true, "receipt_email": s.email,
		"billing_details": s.contact(true), "shipping": s.contact(false),
		"metadata": map[string]string{"booking_id": strconv.FormatInt(s.id, 10)}}
}

// awaitMessages waits until the booking has n messages, each sent or
// logged.
func (s *story) awaitMessages(n int) {
	s.t.Helper()
	s.within(fmt.Sprintf("%d messages are sent or logged", n), func() string {
		ns, err := s.e.store.Notifications(context.Background(), s.id)
		if err != nil {
			return err.Error()
		}
		var done []string
		for _, x := range ns {
			if x.Status == bookings.NotificationSent || x.Status == bookings.NotificationLogged {
				done = append(done, x.Template)
			}
		}
		if len(done) != n {
			return fmt.Sprintf("%d of %d messages done: %v", len(done), n, done)
		}
		return ""
	})
}

// personalData lists what no log line may show about the story: the
// customer's name, email address and phone number (with and without +),
// the client_secret and every line of the messages written for the booking.
func (s *story) personalData() []string {
	s.t.Helper()
	out := []string{s.customerName(), s.email, s.phone, strings.TrimPrefix(s.phone, "+"), s.clientSecret()}
	ns, err := s.e.store.Notifications(context.Background(), s.id)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, n := range ns {
		for _, line := range strings.Split(n.Body, "\n") {
			if line = strings.TrimSpace(line); len(line) >= 10 {
				out = append(out, line)
			}
		}
	}
	return out
}

// assertOpsMasked reads the completed webhook tasks through /ops/'s API,
// and the payment task of s alone, and checks that their payloads are
// readable JSON showing masked contacts and none of forbidden. want is how
// many there must be.
func (e *e2e) assertOpsMasked(t *testing.T, s *story, want int, forbidden []string) {
	t.Helper()
	auth := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(piiOpsUser+":"+piiOpsPass))}}
	api := handlers.OpsPath + "/api/queues/" + tasks.QueueWebhooks
	code, body := e.g.do(http.MethodGet, api+"/completed_tasks?size=100", "", auth, "")
	if code != http.StatusOK {
		t.Fatalf("GET completed tasks = %d %s", code, body)
	}
	var list struct {
		Tasks []struct {
			ID      string `json:"id"`
			Payload string `json:"payload"`
		} `json:"tasks"`
	}
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		t.Fatalf("decode completed tasks: %v\n%s", err, body)
	}
	if len(list.Tasks) != want {
		t.Errorf("%d completed tasks, want %d", len(list.Tasks), want)
	}
	code, one := e.g.do(http.MethodGet, api+"/tasks/stripe:evt_paid_"+s.tag, "", auth, "")
	if code != http.StatusOK {
		t.Fatalf("GET the paid task = %d %s", code, one)
	}
	for _, f := range forbidden {
		if strings.Contains(body, f) || strings.Contains(one, f) {
			t.Errorf("the ops API shows %q", f)
		}
	}
	for _, task := range list.Tasks {
		if !json.Valid([]byte(task.Payload)) {
			t.Errorf("task %s: payload is not JSON: %s", task.ID, task.Payload)
		}
		if !strings.HasPrefix(task.ID, "stripe:evt_paid_"+s.tag) {
			continue
		}
		for _, want := range []string{`"event_id":"evt_paid_` + s.tag + `"`, `"booking_id":"` + strconv.FormatInt(s.id, 10) + `"`,
			notifications.MaskEmail(s.email), notifications.MaskPhone(s.phone)} {
			if !strings.Contains(task.Payload, want) {
				t.Errorf("task %s: payload lacks %s: %s", task.ID, want, task.Payload)
			}
		}
	}
}
