package main

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

// reporter is the part of testing.TB a story uses.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Fatal(args ...any)
}

// storyLog is the reporter of a story running in a goroutine of its own:
// it keeps the failures for the story's subtest to report, and Fatal ends
// the goroutine. Stories run this way, all at once, because t.Parallel
// runs only GOMAXPROCS subtests at a time (two here) and a story spends
// its time waiting for Asynq.
type storyLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *storyLog) Helper() {}

func (l *storyLog) Errorf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.msgs = append(l.msgs, fmt.Sprintf(format, args...))
}

func (l *storyLog) Fatalf(format string, args ...any) {
	l.Errorf(format, args...)
	runtime.Goexit()
}

func (l *storyLog) Fatal(args ...any) { l.Fatalf("%s", fmt.Sprint(args...)) }

func (l *storyLog) failures() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.msgs...)
}

// rows is what a story leaves behind, in the database and at the
// providers, with the booking id written as N.
type rows struct {
	Status          bookings.Status
	DepositPaid     bool
	DepositRefunded bool
	SMSStatus       string
	SMSDelivered    bool
	CancelReason    string
	// Stamps lists the timestamp columns that are set.
	Stamps []string
	// SMSSIDIsTwilios: sms_message_sid is the sid Twilio answered for the
	// one SMS sent to the customer ("" sid and no SMS: also true).
	SMSSIDIsTwilios bool
	Transactions    []string // "kind amount currency", sorted
	Notifications   []string // "channel template recipient status", sorted
	SMS             []string // "body | callback" as Twilio got them
	Emails          []string // "recipient: subject" as the SMTP server got them, sorted
}

// rows reads what the story left behind now.
func (s *story) rows() rows {
	s.t.Helper()
	ctx := context.Background()
	b := s.booking()
	role := func(r string) string {
		switch r {
		case s.email, s.phone:
			return "customer"
		case e2eSupport:
			return "support"
		}
		return r
	}
	n := strings.NewReplacer("#"+strconv.FormatInt(s.id, 10), "#N")
	r := rows{Status: b.Status, DepositPaid: b.DepositPaid, DepositRefunded: b.DepositRefunded,
		SMSStatus: b.SMSStatus, SMSDelivered: b.SMSDelivered, CancelReason: b.CancelReason,
		Stamps: []string{}, Transactions: []string{}, Notifications: []string{}, SMS: []string{}, Emails: []string{}}
	for name, t := range map[string]time.Time{"sms_delivered_at": b.SMSDeliveredAt, "deposit_paid_at": b.DepositPaidAt,
		"refunded_at": b.RefundedAt, "cancelled_at": b.CancelledAt} {
		if !t.IsZero() {
			r.Stamps = append(r.Stamps, name)
		}
	}
	txs, err := s.e.store.Transactions(ctx, s.id)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, tx := range txs {
		r.Transactions = append(r.Transactions, fmt.Sprintf("%s %d %s", tx.Kind, tx.Amount, tx.Currency))
	}
	ns, err := s.e.store.Notifications(ctx, s.id)
	if err != nil {
		s.t.Fatal(err)
	}
	for _, x := range ns {
		r.Notifications = append(r.Notifications, fmt.Sprintf("%s %s %s %s", x.Channel, x.Template, role(x.Recipient), x.Status))
	}
	var sids []string
	for _, m := range s.e.tw.Messages() {
		if m.To == s.phone {
			r.SMS = append(r.SMS, n.Replace(m.Body)+" | "+m.StatusCallback)
			sids = append(sids, m.SID)
		}
	}
	r.SMSSIDIsTwilios = len(sids) == 0 && b.SMSMessageSID == "" || len(sids) == 1 && sids[0] == b.SMSMessageSID
	for _, m := range s.e.smtp.MessagesTo(s.email) {
		r.Emails = append(r.Emails, "customer: "+n.Replace(m.Subject))
	}
	for _, m := range s.e.smtp.MessagesTo(e2eSupport) {
		if strings.Contains(m.Subject, fmt.Sprintf("booking #%d:", s.id)) {
			r.Emails = append(r.Emails, "support: "+n.Replace(m.Subject))
		}
	}
	for _, xs := range [][]string{r.Stamps, r.Transactions, r.Notifications, r.Emails} {
		slices.Sort(xs)
	}
	return r
}

// says returns the plain-text bodies of the emails to the customer
// ("customer") or to support ("support") about the booking, joined.
func (s *story) says(to string) string {
	s.t.Helper()
	var texts []string
	switch to {
	case "customer":
		for _, m := range s.e.smtp.MessagesTo(s.email) {
			texts = append(texts, m.Text)
		}
	case "support":
		for _, m := range s.e.smtp.MessagesTo(e2eSupport) {
			if strings.Contains(m.Subject, fmt.Sprintf("booking #%d:", s.id)) {
				texts = append(texts, m.Text)
			}
		}
	}
	return strings.Join(texts, "\n")
}
