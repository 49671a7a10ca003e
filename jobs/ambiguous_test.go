package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/notifications/twiliotest"
	"github.com/reserveeasy/gateway/tasks"
)

const testAccount = "AC0123456789abcdef0123456789abcdef"

// withTwilio makes the fixture send SMS through twilio-go to a fake
// Twilio API.
func withTwilio(t *testing.T, srv *twiliotest.Server) func(*jobs.Deps) {
	t.Helper()
	tx, err := notifications.NewTwilioTexter(testAccount, "token", "+15557122661", srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	return func(d *jobs.Deps) { d.Texter = tx }
}

func byChannel(ns []bookings.Notification, c bookings.Channel) []bookings.Notification {
	var out []bookings.Notification
	for _, n := range ns {
		if n.Channel == c {
			out = append(out, n)
		}
	}
	return out
}

func lists(srv *twiliotest.Server) int {
	n := 0
	for _, r := range srv.Requests() {
		if r.Method == http.MethodGet {
			n++
		}
	}
	return n
}

// TestAmbiguousSMSIsLookedUpNotResent: Twilio takes the confirmation and
// the connection drops before its answer. The row is unknown, not pending;
// the retry asks Twilio, finds the message, records its sid and sends
// nothing.
func TestAmbiguousSMSIsLookedUpNotResent(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		srv := twiliotest.Start(t, twiliotest.Config{})
		f := newFixture(t, s, withTwilio(t, srv))
		b := f.booking(bookings.StatusPaymentPending)
		ev := stripeEvent("evt_amb", "payment_intent.succeeded", intent(b.ID, "pi_amb"))
		srv.TakeThen(twiliotest.Reset)
		if err := f.run(tasks.TypePaymentSucceeded, ev); err == nil {
			t.Fatal("want an error so that Asynq retries")
		}
		if sms := byChannel(f.notifications(b.ID), bookings.ChannelSMS); len(sms) != 1 || sms[0].Status != bookings.NotificationUnknown {
			t.Fatalf("sms notifications = %+v, want one unknown", sms)
		}
		f.mustRun(tasks.TypePaymentSucceeded, ev)
		f.mustRun(tasks.TypePaymentSucceeded, ev)
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("Twilio got %d messages, want 1", len(msgs))
		}
		sms := byChannel(f.notifications(b.ID), bookings.ChannelSMS)
		if len(sms) != 1 || sms[0].Status != bookings.NotificationSent || sms[0].ProviderID != msgs[0].SID || sms[0].Attempts != 2 {
			t.Errorf("sms notification = %+v, want sent as %s after 2 attempts", sms, msgs[0].SID)
		}
		if got := f.get(b.ID).SMSMessageSID; got != msgs[0].SID {
			t.Errorf("booking sms_message_sid = %q, want %q", got, msgs[0].SID)
		}
		if n := lists(srv); n != 1 {
			t.Errorf("Twilio was asked %d times, want once", n)
		}
	})
}

// TestUnknownSMSNotFoundIsSent: the request never reached Twilio (a 503
// before it took anything); the retry asks, finds nothing and sends once.
func TestUnknownSMSNotFoundIsSent(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		srv := twiliotest.Start(t, twiliotest.Config{})
		f := newFixture(t, s, withTwilio(t, srv))
		b := f.booking(bookings.StatusPaymentPending)
		ev := stripeEvent("evt_503", "payment_intent.succeeded", intent(b.ID, "pi_503"))
		srv.Fail(http.StatusServiceUnavailable)
		if err := f.run(tasks.TypePaymentSucceeded, ev); err == nil {
			t.Fatal("want an error so that Asynq retries")
		}
		if sms := byChannel(f.notifications(b.ID), bookings.ChannelSMS); len(sms) != 1 || sms[0].Status != bookings.NotificationUnknown {
			t.Fatalf("sms notifications = %+v, want one unknown after a 5xx", sms)
		}
		srv.Recover()
		f.mustRun(tasks.TypePaymentSucceeded, ev)
		if n := len(srv.Messages()); n != 1 {
			t.Errorf("Twilio got %d messages, want 1", n)
		}
		if n := lists(srv); n != 2 {
			t.Errorf("Twilio lists read = %d, want 2 (sent since, then the newest)", n)
		}
	})
}

// flakyMailer fails its first email with an ambiguous error (after DATA)
// and records every attempt.
type flakyMailer struct {
	mu       sync.Mutex
	attempts []notifications.Email
}

func (m *flakyMailer) SendEmail(_ context.Context, e notifications.Email) (notifications.Receipt, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.attempts = append(m.attempts, e)
	if len(m.attempts) == 1 {
		return notifications.Receipt{}, fmt.Errorf("smtp: connection reset after DATA: %w", notifications.ErrAmbiguous)
	}
	return notifications.Receipt{ProviderID: "<" + e.MessageID + "@test>"}, nil
}

// TestAmbiguousEmailKeepsItsMessageID: an email whose first attempt ended
// ambiguously is sent again under the same Message-ID.
func TestAmbiguousEmailKeepsItsMessageID(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		mail := &flakyMailer{}
		f := newFixture(t, s, func(d *jobs.Deps) { d.Mailer = mail })
		b := f.booking(bookings.StatusConfirmed)
		ev := stripeEvent("evt_mid", "charge.refunded", charge(b.ID, "pi_mid", 6000))
		if err := f.run(tasks.TypeChargeRefunded, ev); err == nil {
			t.Fatal("want an error so that Asynq retries")
		}
		if ns := f.notifications(b.ID); len(ns) != 1 || ns[0].Status != bookings.NotificationUnknown {
			t.Fatalf("notifications = %+v, want one unknown", ns)
		}
		f.mustRun(tasks.TypeChargeRefunded, ev)
		if len(mail.attempts) != 2 || mail.attempts[0].MessageID == "" || mail.attempts[0].MessageID != mail.attempts[1].MessageID {
			t.Errorf("attempts = %+v, want 2 with the same Message-ID", mail.attempts)
		}
		if ns := f.notifications(b.ID); len(ns) != 1 || ns[0].Status != bookings.NotificationSent {
			t.Errorf("notifications = %+v, want sent", ns)
		}
	})
}

// TestWorkerKilledAfterTwilioTook: a worker claims the confirmation, Twilio
// takes it, and the worker dies before recording anything (no receipt, the
// row left sending). Once the claim expires on the database's clock, the
// next attempt asks Twilio, records the sid and sends nothing.
func TestWorkerKilledAfterTwilioTook(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		const lease = time.Second
		srv := twiliotest.Start(t, twiliotest.Config{})
		f := newFixture(t, s, withTwilio(t, srv), func(d *jobs.Deps) { d.ClaimLease = lease })
		b := f.booking(bookings.StatusPaymentPending)
		ev := stripeEvent("evt_kill", "payment_intent.succeeded", intent(b.ID, "pi_kill"))
		if err := f.runEvent(tasks.TypePaymentSucceeded, ev); err != nil {
			t.Fatal(err)
		}
		sms := byChannel(f.notifications(b.ID), bookings.ChannelSMS)
		if len(sms) != 1 {
			t.Fatalf("sms notifications = %+v", sms)
		}
		// The doomed worker: claim, send, die.
		if _, ok, err := s.ClaimNotification(t.Context(), sms[0].ID, lease); err != nil || !ok {
			t.Fatalf("claim = %v, %v", ok, err)
		}
		tx, err := notifications.NewTwilioTexter(testAccount, "token", "+15557122661", srv.URL())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.SendSMS(t.Context(), notifications.SMS{To: sms[0].Recipient, Body: sms[0].Body}); err != nil {
			t.Fatal(err)
		}
		poll := time.NewTicker(100 * time.Millisecond)
		defer poll.Stop()
		for deadline := time.Now().Add(10 * lease); time.Now().Before(deadline); <-poll.C {
			if err = f.run(tasks.TypePaymentSucceeded, ev); err == nil {
				break
			}
		}
		if err != nil {
			t.Fatalf("the dead worker's claim was never taken over: %v", err)
		}
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("Twilio got %d messages, want 1", len(msgs))
		}
		if got := byChannel(f.notifications(b.ID), bookings.ChannelSMS); len(got) != 1 ||
			got[0].Status != bookings.NotificationSent || got[0].ProviderID != msgs[0].SID {
			t.Errorf("sms notification = %+v, want sent as %s", got, msgs[0].SID)
		}
	})
}
