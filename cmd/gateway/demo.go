package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"strings"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/opsview"
)

// demo posts correctly signed sample webhooks to a running gateway, like
// `stripe trigger` but offline, and shows what each did to its booking.
type demo struct {
	w     io.Writer
	store bookings.Store
	*poster
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := e.flags("demo", "usage: gateway demo [--url URL]\n\nCreate sample bookings and post signed Stripe and Twilio webhooks to a running gateway,\nprinting each answer and the booking's state after it. Uses STRIPE_WEBHOOK_SECRET and\nTWILIO_AUTH_TOKEN (the first of each; unset: the ones `make run` generated in data/dev-secrets.env)\nand DATABASE_URL, like the gateway. It stops at the first webhook the gateway refuses,\nnaming the setting that differs, before creating anything.")
	target := fs.String("url", "", "gateway base URL (default http://localhost:PORT from HTTP_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	p, err := posterFor(e, *target)
	if err != nil {
		return err
	}
	if err := p.preflight("stripe", "twilio"); err != nil {
		return err
	}
	t, err := openTools(ctx, e, false)
	if err != nil {
		return err
	}
	defer t.Close()
	return (&demo{w: e.stdout, store: t.store, poster: p}).run(ctx)
}

// step is one webhook of the demo and the booking change it should cause.
type step struct {
	title string
	id    int64
	post  func() (answer, error)
	// provider is who the webhook claims to come from (stripe, twilio).
	provider string
	done     func(bookings.Booking) bool
}

func (d *demo) run(ctx context.Context) error {
	run := randomHex(4)
	paid, err := d.booking(ctx, "Ada Lovelace", bookings.StatusPaymentPending)
	if err != nil {
		return err
	}
	pi := "pi_demo_" + run
	steps := []step{
		{"1. Stripe: payment_intent.succeeded", paid.ID,
			func() (answer, error) {
				return d.stripe("evt_demo_"+run+"a", "payment_intent.succeeded", paymentIntent(paid.ID, pi, "payment_intent.succeeded", 6000, "usd"))
			},
			"stripe", func(b bookings.Booking) bool { return b.DepositPaid }},
		{"2. Twilio: confirmation SMS delivered", paid.ID,
			func() (answer, error) {
				return d.twilio(smsStatus(d.sid(ctx, paid.ID, run), "delivered", paid.CustomerPhone, ""))
			},
			"twilio", func(b bookings.Booking) bool { return b.SMSDelivered }},
		{"3. Stripe: charge.refunded", paid.ID,
			func() (answer, error) {
				return d.stripe("evt_demo_"+run+"b", "charge.refunded", refundCharge(paid.ID, pi, 6000, 6000, "usd"))
			},
			"stripe", func(b bookings.Booking) bool { return b.DepositRefunded }},
	}
	undelivered, err := d.booking(ctx, "Grace Hopper", bookings.StatusConfirmed)
	if err != nil {
		return err
	}
	failed, err := d.booking(ctx, "Alan Turing", bookings.StatusConfirmed)
	if err != nil {
		return err
	}
	steps = append(steps, []step{
		{"4. Twilio: confirmation SMS undelivered (email fallback + support alert)", undelivered.ID,
			func() (answer, error) {
				return d.twilio(smsStatus("SMdemo"+run+"u", "undelivered", undelivered.CustomerPhone, "30003"))
			},
			"twilio", func(b bookings.Booking) bool { return b.SMSStatus == "undelivered" }},
		{"5. Stripe: payment_intent.payment_failed (hold, then auto-cancel)", failed.ID,
			func() (answer, error) {
				return d.stripe("evt_demo_"+run+"c", "payment_intent.payment_failed", paymentIntent(failed.ID, "pi_demo_"+run+"f", "payment_intent.payment_failed", 6000, "usd"))
			},
			"stripe", func(b bookings.Booking) bool { return b.Status == bookings.StatusPaymentPending }},
	}...)
	for _, s := range steps {
		fmt.Fprintf(d.w, "%s (booking #%d)\n", s.title, s.id)
		a, err := s.post()
		if err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
		fmt.Fprintf(d.w, "   answer: %s\n", a)
		if err := d.refused(s.provider, a); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
		b, ok := waitBooking(ctx, d.store, s.id, s.done)
		fmt.Fprintf(d.w, "   booking: %s\n", describe(b))
		if !ok {
			fmt.Fprintln(d.w, "   (the change did not show within 10s: is a worker running? see the gateway's log)")
		}
	}
	fmt.Fprintf(d.w, "\nSee them with: gateway events  |  gateway inspect evt_demo_%sa  |  the ops UI at %s/ops/\n", run, d.target)
	return nil
}

// sid is the booking's confirmation SMS sid, or a made-up one when SMS are
// only logged (the gateway then finds the booking by phone).
func (d *demo) sid(ctx context.Context, id int64, run string) string {
	if b, err := d.store.Booking(ctx, id); err == nil && b.SMSMessageSID != "" {
		return b.SMSMessageSID
	}
	return "SMdemo" + run + "d"
}

func (d *demo) booking(ctx context.Context, name string, s bookings.Status) (bookings.Booking, error) {
	n, _ := rand.Int(rand.Reader, big.NewInt(9_000_000))
	b, err := d.store.CreateBooking(ctx, bookings.Booking{
		CustomerName: name, CustomerPhone: fmt.Sprintf("+1555%07d", n.Int64()+1_000_000),
		CustomerEmail: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@example.com",
		Status:        s, DepositAmount: 6000, DepositCurrency: "usd",
	})
	if err != nil {
		return b, fmt.Errorf("create demo booking: %w", err)
	}
	return b, nil
}

// paymentIntent is the PaymentIntent of a payment_intent.succeeded or
// payment_intent.payment_failed event.
func paymentIntent(bookingID int64, pi, typ string, amount int64, currency string) string {
	if typ == "payment_intent.payment_failed" {
		return fmt.Sprintf(`{"id":%q,"object":"payment_intent","amount":%d,"amount_received":0,"currency":%q,"status":"requires_payment_method","metadata":{"booking_id":"%d"},"last_payment_error":{"message":"Your card was declined."}}`,
			pi, amount, currency, bookingID)
	}
	return fmt.Sprintf(`{"id":%q,"object":"payment_intent","amount":%d,"amount_received":%d,"currency":%q,"status":"succeeded","metadata":{"booking_id":"%d"}}`,
		pi, amount, amount, currency, bookingID)
}

// refundCharge is a charge of amount of which refunded (Stripe's
// cumulative amount_refunded) is refunded.
func refundCharge(bookingID int64, pi string, amount, refunded int64, currency string) string {
	return fmt.Sprintf(`{"id":"ch_%s","object":"charge","amount":%d,"amount_refunded":%d,"currency":%q,"refunded":%v,"payment_intent":%q,"metadata":{"booking_id":"%d"}}`,
		pi, amount, refunded, currency, refunded >= amount, pi, bookingID)
}

func describe(b bookings.Booking) string {
	return fmt.Sprintf("#%d %s, deposit %s paid=%v refunded=%v, sms %s delivered=%v%s", b.ID, b.Status,
		notifications.FormatAmount(b.DepositAmount, b.DepositCurrency), b.DepositPaid, b.DepositRefunded,
		opsview.Dash(b.SMSStatus), b.SMSDelivered, holdSuffix(b))
}

func first(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}
