package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/handlers"
)

// storyCase is one acceptance story: a booking, the webhooks delivered
// for it in order and, in a second booking, delivered twice and out of
// order, and what both must leave behind.
type storyCase struct {
	name  string
	start bookings.Status
	// inOrder and adversarial deliver the story's webhooks; adversarial
	// repeats them and reverses their order.
	inOrder, adversarial func(s *story)
	want                 func(callback string) rows
	// wantAdversarial, when set, is what the adversarial delivery leaves
	// (when the order rightly changes the outcome).
	wantAdversarial func(callback string) rows
	// says lists sentences the customer's or support's emails must contain.
	says map[string][]string
}

const confirmationSMS = "ReserveEasy: your booking #N is confirmed. Deposit $60.00 received."

func stories() []storyCase {
	return []storyCase{
		{
			name:  "paid then SMS delivered",
			start: bookings.StatusPaymentPending,
			inOrder: func(s *story) {
				s.paid(1)
				s.sms("sent", "", 1)
				s.sms("delivered", "", 1)
			},
			adversarial: func(s *story) {
				s.paid(2)
				s.sms("delivered", "", 2)
				s.sms("sent", "", 2)
				s.paid(1)
			},
			want: func(cb string) rows {
				return rows{Status: bookings.StatusConfirmed, DepositPaid: true, SMSStatus: "delivered", SMSDelivered: true,
					Stamps: []string{"deposit_paid_at", "sms_delivered_at"}, SMSSIDIsTwilios: true,
					Transactions:  []string{"payment 6000 usd"},
					Notifications: []string{"sms booking_confirmation_sms customer sent"},
					SMS:           []string{confirmationSMS + " | " + cb}, Emails: []string{}}
			},
		},
		{
			name:  "SMS undelivered falls back to email and alerts support",
			start: bookings.StatusPaymentPending,
			inOrder: func(s *story) {
				s.paid(1)
				s.sms("sent", "", 1)
				s.sms("undelivered", "30006", 1)
			},
			adversarial: func(s *story) {
				s.paid(2)
				s.sms("undelivered", "30006", 2)
				s.sms("failed", "30006", 1)
				s.sms("sent", "", 2)
			},
			want: func(cb string) rows {
				return rows{Status: bookings.StatusConfirmed, DepositPaid: true, SMSStatus: "undelivered",
					Stamps: []string{"deposit_paid_at"}, SMSSIDIsTwilios: true,
					Transactions: []string{"payment 6000 usd"},
					Notifications: []string{
						"email booking_confirmation_email customer sent",
						"email support_alert support sent",
						"sms booking_confirmation_sms customer sent",
					},
					SMS: []string{confirmationSMS + " | " + cb},
					Emails: []string{
						"customer: Your ReserveEasy booking #N is confirmed",
						"support: [ReserveEasy support] booking #N: confirmation SMS undelivered",
					}}
			},
			says: map[string][]string{"customer": {"is confirmed"}, "support": {"30006"}},
		},
		{
			name:  "payment failed and the hold expires",
			start: bookings.StatusConfirmed,
			inOrder: func(s *story) {
				s.failed(1)
			},
			adversarial: func(s *story) {
				s.failed(2)
				s.failed(1)
			},
			want: func(string) rows {
				return rows{Status: bookings.StatusCancelled, CancelReason: bookings.CancelReasonPaymentNotReceived,
					Stamps: []string{"cancelled_at"}, SMSSIDIsTwilios: true, Transactions: []string{},
					Notifications: []string{"email booking_cancelled customer sent", "email payment_failed customer sent"},
					SMS:           []string{},
					Emails: []string{
						"customer: Payment failed for your ReserveEasy booking",
						"customer: Your ReserveEasy booking #N was cancelled",
					}}
			},
			says: map[string][]string{"customer": {"Your payment failed. Please update your card."}},
		},
		{
			name:  "payment failed then paid within the hold",
			start: bookings.StatusConfirmed,
			inOrder: func(s *story) {
				s.failed(1)
				if got := s.holdTasks(); len(got) != 1 {
					s.t.Fatalf("hold tasks after the failure: %v, want one auto-cancel", got)
				}
				s.paid(1)
				s.within("the auto-cancel has run", func() string {
					if got := s.holdTasks(); len(got) != 0 {
						return "hold tasks: " + strings.Join(got, ", ")
					}
					return ""
				})
			},
			adversarial: func(s *story) {
				s.paid(2)
				s.failed(2)
				if got := s.holdTasks(); len(got) != 0 {
					s.t.Errorf("a failure after the payment scheduled an auto-cancel: %v", got)
				}
			},
			want: func(cb string) rows {
				return rows{Status: bookings.StatusConfirmed, DepositPaid: true,
					Stamps: []string{"deposit_paid_at"}, SMSSIDIsTwilios: true,
					Transactions: []string{"payment 6000 usd"},
					Notifications: []string{"email payment_failed customer sent",
						"sms booking_confirmation_sms customer sent"},
					SMS:    []string{confirmationSMS + " | " + cb},
					Emails: []string{"customer: Payment failed for your ReserveEasy booking"}}
			},
			// A failure that arrives after the payment changes nothing.
			wantAdversarial: func(cb string) rows {
				return rows{Status: bookings.StatusConfirmed, DepositPaid: true,
					Stamps: []string{"deposit_paid_at"}, SMSSIDIsTwilios: true,
					Transactions:  []string{"payment 6000 usd"},
					Notifications: []string{"sms booking_confirmation_sms customer sent"},
					SMS:           []string{confirmationSMS + " | " + cb}, Emails: []string{}}
			},
		},
		{
			name:  "refund",
			start: bookings.StatusPaymentPending,
			inOrder: func(s *story) {
				s.paid(1)
				s.refunded(1)
			},
			adversarial: func(s *story) {
				s.refunded(2)
				s.paid(2)
				s.refunded(1)
			},
			want: func(cb string) rows {
				return rows{Status: bookings.StatusConfirmed, DepositPaid: true, DepositRefunded: true,
					Stamps: []string{"deposit_paid_at", "refunded_at"}, SMSSIDIsTwilios: true,
					Transactions: []string{"payment 6000 usd", "refund 6000 usd"},
					Notifications: []string{"email deposit_refunded customer sent",
						"sms booking_confirmation_sms customer sent"},
					SMS:    []string{confirmationSMS + " | " + cb},
					Emails: []string{"customer: Your deposit has been refunded"}}
			},
			says: map[string][]string{"customer": {"Your $60.00 deposit has been refunded"}},
		},
		{
			name:  "two partial refunds",
			start: bookings.StatusPaymentPending,
			inOrder: func(s *story) {
				s.paid(1)
				s.refund("refund_part", 2000, 1)
				s.refund("refund_rest", 6000, 1)
			},
			adversarial: func(s *story) {
				s.refund("refund_part", 2000, 2)
				s.paid(2)
				s.refund("refund_rest", 6000, 2)
				s.refund("refund_part", 2000, 1)
			},
			want: func(cb string) rows {
				return rows{Status: bookings.StatusConfirmed, DepositPaid: true, DepositRefunded: true,
					Stamps: []string{"deposit_paid_at", "refunded_at"}, SMSSIDIsTwilios: true,
					Transactions: []string{"payment 6000 usd", "refund 2000 usd", "refund 4000 usd"},
					Notifications: []string{"email deposit_refunded customer sent", "email deposit_refunded customer sent",
						"sms booking_confirmation_sms customer sent"},
					SMS: []string{confirmationSMS + " | " + cb},
					Emails: []string{"customer: Part of your deposit has been refunded",
						"customer: The rest of your deposit has been refunded"}}
			},
			says: map[string][]string{"customer": {"$20.00 of your $60.00 deposit has been refunded",
				"The remaining $40.00 of your $60.00 deposit has been refunded"}},
		},
	}
}

// TestStories runs every story through `gateway serve` on real Redis, on
// PostgreSQL and on SQLite. Each story runs twice on bookings of its own:
// webhooks delivered once and in order, and delivered twice and out of
// order; both must leave the same rows and send each message once (unless
// the story says the order rightly matters). All stories of a database run
// at once, each reported by a subtest.
func TestStories(t *testing.T) {
	for _, kind := range []string{"postgres", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			e := startE2E(t, kind)
			callback := e.base + handlers.TwilioPath
			type running struct {
				name string
				log  *storyLog
				done chan struct{}
			}
			var runs []running
			for i, sc := range stories() {
				variants := []struct {
					name    string
					deliver func(s *story)
					want    func(string) rows
				}{
					{"in order", sc.inOrder, sc.want},
					{"twice and reversed", sc.adversarial, sc.want},
				}
				if sc.wantAdversarial != nil {
					variants[1].want = sc.wantAdversarial
				}
				for j, v := range variants {
					r := running{name: sc.name + "/" + v.name, log: &storyLog{}, done: make(chan struct{})}
					runs = append(runs, r)
					go func() {
						defer close(r.done)
						s := e.newStory(r.log, fmt.Sprintf("%ss%d%d", kind[:2], i, j), 10*i+j, sc.start)
						v.deliver(s)
						s.settle(v.want(callback), sc.says)
					}()
				}
			}
			for _, r := range runs {
				t.Run(r.name, func(t *testing.T) {
					select {
					case <-r.done:
					case <-time.After(3 * time.Minute):
						t.Fatal("the story did not end")
					}
					for _, msg := range r.log.failures() {
						t.Error(msg)
					}
				})
			}
		})
	}
}

// settle waits until the story has left want behind, then checks the
// sentences the customer's and support's emails must contain.
func (s *story) settle(want rows, says map[string][]string) {
	s.t.Helper()
	s.within("the story settles", func() string {
		if diff := cmp.Diff(want, s.rows()); diff != "" {
			return "rows (-want +got):\n" + diff
		}
		return ""
	})
	for to, sentences := range says {
		text := s.says(to)
		for _, sentence := range sentences {
			if !strings.Contains(text, sentence) {
				s.t.Errorf("the emails to %s do not say %q:\n%s", to, sentence, text)
			}
		}
	}
}
