package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/tasks"
)

func TestPaymentSucceeded(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusPaymentPending)
		ev := stripeEvent("evt_paid", "payment_intent.succeeded", intent(b.ID, "pi_1"))
		f.mustRun(tasks.TypePaymentSucceeded, ev)
		f.mustRun(tasks.TypePaymentSucceeded, ev) // a retried task changes nothing

		got := f.get(b.ID)
		if !got.DepositPaid || got.DepositPaidAt.IsZero() || got.Status != bookings.StatusConfirmed ||
			got.StripePaymentIntentID != "pi_1" || got.SMSMessageSID == "" {
			t.Errorf("booking = %+v", got)
		}
		ts := f.transactions(b.ID)
		if len(ts) != 1 || ts[0].Kind != bookings.KindPayment || ts[0].Amount != 6000 || ts[0].StripeEventID != "evt_paid" {
			t.Errorf("transactions = %+v", ts)
		}
		if len(f.out.sms) != 1 || f.out.sms[0].To != b.CustomerPhone || f.out.sms[0].StatusCallback != callback {
			t.Fatalf("sms = %+v", f.out.sms)
		}
		if got.SMSMessageSID != "SM00000000000000000000000000000001" {
			t.Errorf("sms_message_sid = %q", got.SMSMessageSID)
		}
		evs, err := s.Events(context.Background(), bookings.EventFilter{EventID: "evt_paid"})
		if err != nil || len(evs) != 1 || evs[0].BookingID != b.ID || evs[0].ProcessedAt.IsZero() {
			t.Errorf("webhook_events = %+v, %v", evs, err)
		}
	})
}

func TestPaymentSucceededConcurrentCopies(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusPaymentPending)
		ev := stripeEvent("evt_twice", "payment_intent.succeeded", intent(b.ID, "pi_2"))
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := f.run(tasks.TypePaymentSucceeded, ev); err != nil && !strings.Contains(err.Error(), "being sent") {
					t.Errorf("run: %v", err)
				}
			}()
		}
		wg.Wait()
		f.mustRun(tasks.TypePaymentSucceeded, ev)
		if n := len(f.transactions(b.ID)); n != 1 {
			t.Errorf("transactions = %d, want 1", n)
		}
		if n := len(f.out.sms); n != 1 {
			t.Errorf("sms sent = %d, want 1", n)
		}
	})
}

func TestPaymentForCancelledBookingAlertsSupport(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusCancelled)
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_late", "payment_intent.succeeded", intent(b.ID, "pi_3")))
		got := f.get(b.ID)
		if got.Status != bookings.StatusCancelled || !got.DepositPaid {
			t.Errorf("booking = %+v", got)
		}
		if len(f.out.sms) != 0 {
			t.Errorf("sent a confirmation for a cancelled booking: %+v", f.out.sms)
		}
		alerts := f.out.emailsTo(support)
		if len(alerts) != 1 || !strings.Contains(alerts[0].Subject, "cancelled booking") {
			t.Errorf("support alerts = %+v", alerts)
		}
		if !strings.Contains(f.logs.String(), "level=ERROR msg=\"support alert\"") {
			t.Errorf("support alert not logged at error level:\n%s", f.logs)
		}
	})
}

func TestRefund(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		// The refund arrives before the payment it refunds: still recorded.
		refund := stripeEvent("evt_refund", "charge.refunded", charge(b.ID, "pi_4", 6000))
		f.mustRun(tasks.TypeChargeRefunded, refund)
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_pay4", "payment_intent.succeeded", intent(b.ID, "pi_4")))
		f.mustRun(tasks.TypeChargeRefunded, refund)

		got := f.get(b.ID)
		if !got.DepositRefunded || got.RefundedAt.IsZero() || !got.DepositPaid {
			t.Errorf("booking = %+v", got)
		}
		var refunds []bookings.Transaction
		for _, tx := range f.transactions(b.ID) {
			if tx.Kind == bookings.KindRefund {
				refunds = append(refunds, tx)
			}
		}
		if len(refunds) != 1 || refunds[0].Amount != 6000 || refunds[0].StripeObjectID != "ch_pi_4" {
			t.Errorf("refund rows = %+v", refunds)
		}
		mails := f.out.emailsTo(b.CustomerEmail)
		if len(mails) != 1 || !strings.Contains(mails[0].Text, "Your $60.00 deposit has been refunded") {
			t.Errorf("refund emails = %+v", mails)
		}
	})
}

// TestPartialRefunds: two partial refunds of one charge summing to the
// whole deposit. Stripe's amount_refunded is cumulative: each event records
// the newly refunded amount; only the one completing the refund marks the
// deposit refunded; each email says what it refunded.
func TestPartialRefunds(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		first := stripeEvent("evt_r1", "charge.refunded", charge(b.ID, "pi_5", 2000))
		f.mustRun(tasks.TypeChargeRefunded, first)
		f.mustRun(tasks.TypeChargeRefunded, first) // a retried task changes nothing
		if got := f.get(b.ID); got.DepositRefunded || !got.RefundedAt.IsZero() {
			t.Errorf("after $20.00 of $60.00: deposit_refunded=%v refunded_at=%v, want false and unset",
				got.DepositRefunded, got.RefundedAt)
		}
		second := charge(b.ID, "pi_5", 6000)
		second.Refunded = true
		f.mustRun(tasks.TypeChargeRefunded, stripeEvent("evt_r2", "charge.refunded", second))
		got := f.get(b.ID)
		if !got.DepositRefunded || !got.RefundedAt.Equal(f.clock()) {
			t.Errorf("after the rest: deposit_refunded=%v refunded_at=%v, want true and %v",
				got.DepositRefunded, got.RefundedAt, f.clock())
		}
		var rows []string
		for _, tx := range f.transactions(b.ID) {
			rows = append(rows, fmt.Sprintf("%s %d %s %s %s", tx.Kind, tx.Amount, tx.Currency, tx.StripeObjectID, tx.StripeEventID))
		}
		want := []string{"refund 2000 usd ch_pi_5 evt_r1", "refund 4000 usd ch_pi_5 evt_r2"}
		if d := cmp.Diff(want, rows); d != "" {
			t.Errorf("transactions (-want +got):\n%s", d)
		}
		var says []string
		for _, m := range f.out.emailsTo(b.CustomerEmail) {
			says = append(says, m.Subject+" | "+firstLine(t, m.Text, "deposit"))
		}
		wantSays := []string{
			"Part of your deposit has been refunded | $20.00 of your $60.00 deposit has been refunded for booking #" + fmt.Sprint(b.ID) + ".",
			"The rest of your deposit has been refunded | The remaining $40.00 of your $60.00 deposit has been refunded for booking #" + fmt.Sprint(b.ID) + ": your deposit is now refunded in full.",
		}
		if d := cmp.Diff(wantSays, says); d != "" {
			t.Errorf("emails (-want +got):\n%s", d)
		}
	})
}

// TestRefundsOutOfOrder: the event completing the refund arrives before the
// partial one it includes: one full refund, and the late partial one
// records and sends nothing and never unmarks the deposit.
func TestRefundsOutOfOrder(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		f.mustRun(tasks.TypeChargeRefunded, stripeEvent("evt_o2", "charge.refunded", charge(b.ID, "pi_7", 6000)))
		f.mustRun(tasks.TypeChargeRefunded, stripeEvent("evt_o1", "charge.refunded", charge(b.ID, "pi_7", 2000)))
		if !f.get(b.ID).DepositRefunded {
			t.Error("a late partial refund unmarked deposit_refunded")
		}
		var amounts []int64
		for _, tx := range f.transactions(b.ID) {
			amounts = append(amounts, tx.Amount)
		}
		if d := cmp.Diff([]int64{6000}, amounts); d != "" {
			t.Errorf("refund amounts (-want +got):\n%s", d)
		}
		mails := f.out.emailsTo(b.CustomerEmail)
		if len(mails) != 1 || !strings.Contains(mails[0].Text, "Your $60.00 deposit has been refunded") {
			t.Errorf("emails = %+v, want one saying the whole $60.00 was refunded", mails)
		}
	})
}

// firstLine returns the first line of text containing word.
func firstLine(t *testing.T, text, word string) string {
	t.Helper()
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			return l
		}
	}
	t.Errorf("no line of %q contains %q", text, word)
	return ""
}

func TestBookingFoundByPaymentIntent(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusConfirmed)
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_p6", "payment_intent.succeeded", intent(b.ID, "pi_6")))
		f.mustRun(tasks.TypeChargeRefunded, stripeEvent("evt_r6", "charge.refunded", charge(0, "pi_6", 6000)))
		if !f.get(b.ID).DepositRefunded {
			t.Error("refund without metadata did not find the booking by payment intent")
		}
	})
}

func TestNoBookingEndsWithoutRetry(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		err := f.run(tasks.TypePaymentSucceeded, stripeEvent("evt_none", "payment_intent.succeeded", intent(999999, "pi_x")))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Fatalf("err = %v, want SkipRetry", err)
		}
		if !strings.Contains(f.logs.String(), "no booking found") {
			t.Errorf("no warning logged:\n%s", f.logs)
		}
		evs, _ := s.Events(context.Background(), bookings.EventFilter{EventID: "evt_none"})
		if len(evs) != 0 {
			t.Errorf("webhook_events recorded an event that changed nothing: %+v", evs)
		}
	})
}

func TestUndecodablePayloadIsNotRetried(t *testing.T) {
	f := newFixture(t, nil)
	for _, typ := range []string{tasks.TypePaymentSucceeded, tasks.TypePaymentFailed, tasks.TypeChargeRefunded, tasks.TypeSMSStatus, tasks.TypeAutoCancel} {
		err := f.mux.ProcessTask(context.Background(), asynq.NewTask(typ, []byte("{not json")))
		if !errors.Is(err, asynq.SkipRetry) {
			t.Errorf("%s: err = %v, want SkipRetry", typ, err)
		}
	}
}

// TestPaidAgain: another event for the same PaymentIntent changes nothing
// and sends nothing; a second PaymentIntent is recorded and support is
// alerted, without a second confirmation SMS.
func TestPaidAgain(t *testing.T) {
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s)
		b := f.booking(bookings.StatusPaymentPending)
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_a1", "payment_intent.succeeded", intent(b.ID, "pi_a")))
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_a2", "payment_intent.succeeded", intent(b.ID, "pi_a")))
		if n, m := len(f.transactions(b.ID)), len(f.out.sms); n != 1 || m != 1 {
			t.Fatalf("after a second event for one intent: %d transactions, %d sms; want 1 and 1", n, m)
		}
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_b1", "payment_intent.succeeded", intent(b.ID, "pi_b")))
		if n, m := len(f.transactions(b.ID)), len(f.out.sms); n != 2 || m != 1 {
			t.Errorf("after a second intent: %d transactions, %d sms; want 2 and 1", n, m)
		}
		// Another event for the second intent adds nothing.
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_b2", "payment_intent.succeeded", intent(b.ID, "pi_b")))
		if n := len(f.transactions(b.ID)); n != 2 {
			t.Errorf("after a second event for the second intent: %d transactions, want 2", n)
		}
		if alerts := f.out.emailsTo(support); len(alerts) != 1 || !strings.Contains(alerts[0].Subject, "paid twice") {
			t.Errorf("support alerts = %+v", alerts)
		}
		if got := f.get(b.ID); got.StripePaymentIntentID != "pi_a" {
			t.Errorf("stripe_payment_intent_id = %q, want the first intent kept", got.StripePaymentIntentID)
		}
	})
}

// TestTemplatesFromDeps: the messages are rendered with the Deps'
// templates (TEMPLATES_DIR, BRAND_NAME), not the compiled-in defaults.
func TestTemplatesFromDeps(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sms"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sms", notifications.TemplateConfirmationSMS+".txt"),
		[]byte("{{.Brand}}: table #{{.BookingID}} is yours."), 0o644); err != nil {
		t.Fatal(err)
	}
	ts, err := notifications.LoadTemplates(dir, "Acme Tables")
	if err != nil {
		t.Fatal(err)
	}
	stores(t, func(t *testing.T, s bookings.Store) {
		f := newFixture(t, s, func(d *jobs.Deps) { d.Templates = ts })
		b := f.booking(bookings.StatusPaymentPending)
		f.mustRun(tasks.TypePaymentSucceeded, stripeEvent("evt_brand", "payment_intent.succeeded", intent(b.ID, "pi_brand")))
		if len(f.out.sms) != 1 || f.out.sms[0].Body != fmt.Sprintf("Acme Tables: table #%d is yours.", b.ID) {
			t.Fatalf("sms = %+v", f.out.sms)
		}
		f.mustRun(tasks.TypeChargeRefunded, stripeEvent("evt_brand_refund", "charge.refunded", charge(b.ID, "pi_brand", 6000)))
		emails := f.out.emailsTo(b.CustomerEmail)
		if len(emails) != 1 || !strings.Contains(emails[0].Text, "The Acme Tables team") {
			t.Fatalf("emails = %+v", emails)
		}
	})
}
