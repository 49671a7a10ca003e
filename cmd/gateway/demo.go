package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/handlers"
	"github.com/reserveeasy/gateway/notifications"
	"github.com/reserveeasy/gateway/verify"
)

// demo posts correctly signed sample webhooks to a running gateway, like
// `stripe trigger` but offline, and shows what each did to its booking.
type demo struct {
	w            io.Writer
	store        bookings.Store
	target       string // where requests go
	signBase     string // the base URL Twilio signatures cover
	stripeSecret string
	twilioToken  string
	client       *http.Client
}

func runDemo(ctx context.Context, e *env, args []string) error {
	fs := e.flags("demo", "usage: gateway demo [--url URL]\n\nCreate sample bookings and post signed Stripe and Twilio webhooks to a running gateway,\nprinting each answer and the booking's state after it. Uses STRIPE_WEBHOOK_SECRET and\nTWILIO_AUTH_TOKEN (the first of each; unset: the ones `make run` generated in data/dev-secrets.env)\nand DATABASE_URL, like the gateway.")
	target := fs.String("url", "", "gateway base URL (default http://localhost:PORT from HTTP_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, _, err := loadConfig(e)
	if err == nil {
		cfg, err = toolSecrets(cfg)
	}
	if err != nil {
		return err
	}
	t, err := openTools(ctx, e, false)
	if err != nil {
		return err
	}
	defer t.Close()
	d := &demo{w: e.stdout, store: t.store, target: strings.TrimRight(*target, "/"), client: &http.Client{Timeout: 10 * time.Second}}
	if d.target == "" {
		_, port, _ := net.SplitHostPort(cfg.HTTPAddr)
		d.target = "http://localhost:" + port
	}
	d.signBase = d.target
	if cfg.PublicBaseURL != "" {
		d.signBase = cfg.PublicBaseURL
	}
	d.stripeSecret, d.twilioToken = first(cfg.StripeWebhookSecrets), first(cfg.TwilioAuthTokens)
	if d.stripeSecret == "" || d.twilioToken == "" {
		return fmt.Errorf("no STRIPE_WEBHOOK_SECRET or TWILIO_AUTH_TOKEN to sign with: set the gateway's, or start `make run` first (it generates %s)", devSecretsFile)
	}
	return d.run(ctx)
}

// step is one webhook of the demo and the booking change it should cause.
type step struct {
	title string
	id    int64
	post  func() (int, string, error)
	done  func(bookings.Booking) bool
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
			func() (int, string, error) {
				return d.stripe("payment_intent.succeeded", run+"a", paymentIntent(paid.ID, pi))
			},
			func(b bookings.Booking) bool { return b.DepositPaid }},
		{"2. Twilio: confirmation SMS delivered", paid.ID,
			func() (int, string, error) {
				return d.twilio(d.sid(ctx, paid.ID, run), "delivered", paid.CustomerPhone, "")
			},
			func(b bookings.Booking) bool { return b.SMSDelivered }},
		{"3. Stripe: charge.refunded", paid.ID,
			func() (int, string, error) { return d.stripe("charge.refunded", run+"b", refundCharge(paid.ID, pi)) },
			func(b bookings.Booking) bool { return b.DepositRefunded }},
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
			func() (int, string, error) {
				return d.twilio("SMdemo"+run+"u", "undelivered", undelivered.CustomerPhone, "30003")
			},
			func(b bookings.Booking) bool { return b.SMSStatus == "undelivered" }},
		{"5. Stripe: payment_intent.payment_failed (hold, then auto-cancel)", failed.ID,
			func() (int, string, error) {
				return d.stripe("payment_intent.payment_failed", run+"c", paymentIntent(failed.ID, "pi_demo_"+run+"f"))
			},
			func(b bookings.Booking) bool { return b.Status == bookings.StatusPaymentPending }},
	}...)
	for _, s := range steps {
		fmt.Fprintf(d.w, "%s (booking #%d)\n", s.title, s.id)
		code, body, err := s.post()
		if err != nil {
			return fmt.Errorf("%s: %w (is the gateway running at %s?)", s.title, err, d.target)
		}
		fmt.Fprintf(d.w, "   answer: %d %s\n", code, body)
		b, ok := d.wait(ctx, s.id, s.done)
		fmt.Fprintf(d.w, "   booking: %s\n", describe(b))
		if !ok {
			fmt.Fprintln(d.w, "   (the change did not show within 10s: is a worker running? see the gateway's log)")
		}
	}
	fmt.Fprintf(d.w, "\nSee them with: gateway events  |  gateway inspect evt_demo_%sa  |  the ops UI at %s/ops/\n", run, d.target)
	return nil
}

// wait polls the booking until done or 10 seconds pass.
func (d *demo) wait(ctx context.Context, id int64, done func(bookings.Booking) bool) (bookings.Booking, bool) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := d.store.Booking(ctx, id)
		if err == nil && done(b) {
			return b, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return b, false
		}
		time.Sleep(100 * time.Millisecond)
	}
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

func (d *demo) stripe(typ, id, object string) (int, string, error) {
	body := []byte(fmt.Sprintf(`{"id":"evt_demo_%s","object":"event","type":%q,"api_version":"2023-10-16","created":%d,"livemode":false,"data":{"object":%s}}`,
		id, typ, time.Now().Unix(), object))
	req, _ := http.NewRequest(http.MethodPost, d.target+handlers.StripePath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", verify.SignStripe(body, d.stripeSecret, time.Now()))
	return d.do(req)
}

func (d *demo) twilio(sid, status, to, errorCode string) (int, string, error) {
	form := url.Values{"MessageSid": {sid}, "SmsSid": {sid}, "AccountSid": {"ACdemo"}, "From": {"+15550000000"},
		"To": {to}, "MessageStatus": {status}, "ApiVersion": {"2010-04-01"}}
	if errorCode != "" {
		form.Set("ErrorCode", errorCode)
	}
	req, _ := http.NewRequest(http.MethodPost, d.target+handlers.TwilioPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", verify.SignTwilio(d.twilioToken, d.signBase+handlers.TwilioPath, form))
	return d.do(req)
}

func (d *demo) do(req *http.Request) (int, string, error) {
	resp, err := d.client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	return resp.StatusCode, strings.TrimSpace(string(b)), nil
}

func paymentIntent(bookingID int64, pi string) string {
	return fmt.Sprintf(`{"id":%q,"object":"payment_intent","amount":6000,"amount_received":6000,"currency":"usd","status":"succeeded","metadata":{"booking_id":"%d"},"last_payment_error":{"message":"Your card was declined."}}`, pi, bookingID)
}

func refundCharge(bookingID int64, pi string) string {
	return fmt.Sprintf(`{"id":"ch_%s","object":"charge","amount":6000,"amount_refunded":6000,"currency":"usd","refunded":true,"payment_intent":%q,"metadata":{"booking_id":"%d"}}`, pi, pi, bookingID)
}

func describe(b bookings.Booking) string {
	return fmt.Sprintf("#%d %s, deposit %s paid=%v refunded=%v, sms %s delivered=%v%s", b.ID, b.Status,
		notifications.FormatAmount(b.DepositAmount, b.DepositCurrency), b.DepositPaid, b.DepositRefunded,
		dash(b.SMSStatus), b.SMSDelivered, holdSuffix(b))
}

func first(xs []string) string {
	if len(xs) == 0 {
		return ""
	}
	return xs[0]
}
