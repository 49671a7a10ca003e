package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/tasks"
	"github.com/reserveeasy/gateway/verify"
)

// story is one booking going through a story's webhooks, with its own
// customer phone and email and its own event ids (tag).
type story struct {
	t     reporter
	e     *e2e
	id    int64
	tag   string
	phone string
	email string
	pi    string
}

// newStory inserts a booking the way other systems do: plain SQL with only
// the customer fields, status, timestamps and deposit. Its customer has
// phone number n and an email address made of tag.
func (e *e2e) newStory(t reporter, tag string, n int, status bookings.Status) *story {
	t.Helper()
	s := &story{t: t, e: e, tag: tag, pi: "pi_" + tag, email: tag + "@customer.test",
		phone: fmt.Sprintf("+1555%07d", n)}
	q := `INSERT INTO bookings (customer_name, customer_phone, customer_email, status, created_at, updated_at,
		deposit_amount, deposit_currency) VALUES (?, ?, ?, ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 6000, 'usd') RETURNING id`
	if e.pg {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", "$"+strconv.Itoa(i), 1)
		}
	}
	if err := e.store.DB().QueryRow(q, "Ada "+tag, s.phone, s.email, string(status)).Scan(&s.id); err != nil {
		t.Fatalf("insert booking: %v", err)
	}
	return s
}

func (s *story) booking() bookings.Booking {
	s.t.Helper()
	b, err := s.e.store.Booking(context.Background(), s.id)
	if err != nil {
		s.t.Fatalf("read booking %d: %v", s.id, err)
	}
	return b
}

// within polls cond until it returns "" and fails the story after
// e2eTimeout with cond's last answer.
func (s *story) within(what string, cond func() string) {
	s.t.Helper()
	if why := waitUntil(e2eTimeout, cond); why != "" {
		s.t.Fatalf("booking %d: %s: still not so after %v: %s\ngateway log about it:\n%s",
			s.id, what, e2eTimeout, why, s.logLines())
	}
}

// logLines returns the gateway's log lines about the booking (the last
// 30), for failure messages.
func (s *story) logLines() string {
	var lines []string
	for _, l := range strings.Split(s.e.g.stderr.String(), "\n") {
		if strings.Contains(l, fmt.Sprintf("booking_id=%d ", s.id)) || strings.Contains(l, s.tag) {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines[max(0, len(lines)-30):], "\n")
}

// post sends one signed webhook and checks the gateway's 200 answer.
func (s *story) post(path, contentType string, header http.Header, body, wantBody string) {
	s.t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.e.base+path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header = header
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(b)) != wantBody {
		s.t.Fatalf("POST %s = %d %s, want 200 %s", path, resp.StatusCode, b, wantBody)
	}
}

// stripe delivers a Stripe event copies times, back to back, then waits
// until its task has run to completion.
func (s *story) stripe(name, typ string, object map[string]any, copies int) {
	s.t.Helper()
	evt := "evt_" + name + "_" + s.tag
	payload, err := json.Marshal(map[string]any{
		"id": evt, "object": "event", "api_version": "2023-10-16", "created": time.Now().Unix(),
		"livemode": false, "pending_webhooks": 1, "type": typ,
		"request": map[string]any{"id": nil, "idempotency_key": nil},
		"data":    map[string]any{"object": object},
	})
	if err != nil {
		s.t.Fatal(err)
	}
	for range copies {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{
			Payload: payload, Secret: e2eStripeSecret, Timestamp: time.Now(),
		})
		s.post(handlers.StripePath, "application/json", http.Header{"Stripe-Signature": {signed.Header}},
			string(payload), `{"received":true}`)
	}
	s.awaitTask(tasks.StripeTaskID(evt))
}

func (s *story) paymentIntent(status string) map[string]any {
	pi := map[string]any{"id": s.pi, "object": "payment_intent", "amount": 6000, "currency": "usd",
		"status": status, "metadata": map[string]string{"booking_id": strconv.FormatInt(s.id, 10)}}
	switch status {
	case "succeeded":
		pi["amount_received"] = 6000
	default:
		pi["last_payment_error"] = map[string]any{"code": "card_declined", "message": "Your card was declined."}
	}
	return pi
}

// paid delivers payment_intent.succeeded for the booking's deposit.
func (s *story) paid(copies int) {
	s.t.Helper()
	s.stripe("paid", "payment_intent.succeeded", s.paymentIntent("succeeded"), copies)
}

// failed delivers payment_intent.payment_failed (card declined).
func (s *story) failed(copies int) {
	s.t.Helper()
	s.stripe("failed", "payment_intent.payment_failed", s.paymentIntent("requires_payment_method"), copies)
}

// refunded delivers charge.refunded for the whole deposit.
func (s *story) refunded(copies int) {
	s.t.Helper()
	s.refund("refunded", 6000, copies)
}

// refund delivers charge.refunded (event name) for the booking's charge
// after refunds of amountRefunded in all (Stripe's cumulative figure).
func (s *story) refund(name string, amountRefunded int64, copies int) {
	s.t.Helper()
	s.stripe(name, "charge.refunded", map[string]any{"id": "ch_" + s.tag, "object": "charge",
		"amount": 6000, "amount_refunded": amountRefunded, "currency": "usd", "payment_intent": s.pi,
		"refunded": amountRefunded >= 6000, "metadata": map[string]string{"booking_id": strconv.FormatInt(s.id, 10)}}, copies)
}

// sid waits for the confirmation SMS's sid to be stored on the booking.
func (s *story) sid() string {
	s.t.Helper()
	var sid string
	s.within("sms_message_sid is stored", func() string {
		sid = s.booking().SMSMessageSID
		if sid == "" {
			return "sms_message_sid is empty"
		}
		return ""
	})
	return sid
}

// sms delivers a Twilio status callback for the booking's confirmation SMS
// copies times, each with a fresh I-Twilio-Idempotency-Token, then waits
// until its task has run to completion.
func (s *story) sms(status, errorCode string, copies int) {
	s.t.Helper()
	s.smsFor(s.sid(), status, errorCode, copies)
}

// smsFor delivers a Twilio status callback for the SMS sid to the booking's
// phone copies times, then waits until its task has run to completion.
func (s *story) smsFor(sid, status, errorCode string, copies int) {
	s.t.Helper()
	form := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {e2eAccountSID}, "From": {e2eFromNumber}, "To": {s.phone}, "ApiVersion": {"2010-04-01"},
	}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	sig := verify.SignTwilio(e2eTwilioToken, s.e.base+handlers.TwilioPath, form)
	for i := range copies {
		// Each copy carries a fresh idempotency token (unsigned), as a
		// replayed capture would: still one event.
		token := fmt.Sprintf("%s-%s-%d", s.tag, status, i)
		s.post(handlers.TwilioPath, "application/x-www-form-urlencoded",
			http.Header{"X-Twilio-Signature": {sig}, "I-Twilio-Idempotency-Token": {token}},
			form.Encode(), `{"status":"received"}`)
	}
	s.awaitTask(tasks.TwilioTaskID(tasks.TwilioEventID(sid, status)))
}

// awaitTask waits until the webhook task id has completed (the gateway
// keeps completed tasks for an hour).
func (s *story) awaitTask(id string) {
	s.t.Helper()
	s.within("task "+id+" completes", func() string {
		ti, err := s.e.insp.GetTaskInfo(tasks.QueueWebhooks, id)
		switch {
		case err != nil:
			return err.Error()
		case ti.State != asynq.TaskStateCompleted:
			return fmt.Sprintf("task is %v (last error %q)", ti.State, ti.LastErr)
		}
		return ""
	})
}

// holdTasks lists the auto-cancel tasks of the booking in any state but
// completed (the gateway keeps no completed auto-cancels).
func (s *story) holdTasks() []string {
	s.t.Helper()
	list := []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
		s.e.insp.ListScheduledTasks, s.e.insp.ListPendingTasks, s.e.insp.ListActiveTasks,
		s.e.insp.ListRetryTasks, s.e.insp.ListArchivedTasks,
	}
	var out []string
	for _, l := range list {
		ts, err := l(tasks.QueueHolds)
		if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
			s.t.Fatalf("list hold tasks: %v", err)
		}
		for _, ti := range ts {
			var a tasks.AutoCancel
			if json.Unmarshal(ti.Payload, &a) == nil && a.BookingID == s.id {
				out = append(out, fmt.Sprintf("%s %v", ti.ID, ti.State))
			}
		}
	}
	return out
}
