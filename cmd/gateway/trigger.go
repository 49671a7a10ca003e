package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/reserveeasy/gateway/bookings"
)

// triggerTypes are the events `gateway trigger` can post.
var triggerTypes = []string{"payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded", "sms"}

// smsStatuses are the MessageStatus values Twilio posts.
var smsStatuses = []string{"accepted", "scheduled", "queued", "sending", "sent", "delivered", "undelivered", "failed", "read", "canceled"}

const triggerUsage = `usage: gateway trigger TYPE --booking ID [--amount N] [--currency C] [--status S] [--error-code N] [--url URL]

Post one correctly signed webhook for a booking to a running gateway, offline
(like ` + "`stripe trigger`" + `, with Twilio statuses too), and show the booking after it.

TYPE is payment_intent.succeeded, payment_intent.payment_failed, charge.refunded
or sms (a Twilio status callback for the booking's confirmation SMS; --status).
The amount and currency default to the booking's deposit; for charge.refunded,
--amount is what Stripe reports as the charge's amount_refunded (so far, in
minor units): less than the deposit is a partial refund.

Signs with STRIPE_WEBHOOK_SECRET / TWILIO_AUTH_TOKEN (the first of each; unset:
the ones ` + "`make run`" + ` generated in data/dev-secrets.env) and reads the booking
from DATABASE_URL, like the gateway. A refused webhook stops it, naming the
setting that differs.`

func runTrigger(ctx context.Context, e *env, args []string) error {
	fs := e.flags("trigger", triggerUsage)
	booking := fs.Int64("booking", 0, "booking id (required)")
	amount := fs.Int64("amount", 0, "amount in minor units (default: the booking's deposit)")
	currency := fs.String("currency", "", "currency (default: the booking's)")
	status := fs.String("status", "delivered", "Twilio MessageStatus, for sms: "+strings.Join(smsStatuses, ", "))
	errorCode := fs.String("error-code", "", "Twilio ErrorCode, for sms (default 30003 for undelivered and failed)")
	target := fs.String("url", "", "gateway base URL (default http://localhost:PORT from HTTP_ADDR)")
	typ, rest := "", args
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		typ, rest = args[0], args[1:]
	}
	if err := fs.Parse(rest); err != nil {
		return err
	}
	switch {
	case typ == "" && fs.NArg() > 0:
		typ = fs.Arg(0)
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q (flags go after TYPE)", fs.Arg(0))
	}
	if !slices.Contains(triggerTypes, typ) {
		return fmt.Errorf("TYPE %q is not one of %s", typ, strings.Join(triggerTypes, ", "))
	}
	if *booking <= 0 {
		return errors.New("--booking ID is required (a positive booking id; `gateway bookings create` makes one)")
	}
	if typ == "sms" && !slices.Contains(smsStatuses, *status) {
		return fmt.Errorf("--status %q is not one of %s", *status, strings.Join(smsStatuses, ", "))
	}
	if *amount < 0 {
		return fmt.Errorf("--amount %d is negative", *amount)
	}
	p, err := posterFor(e, *target)
	if err != nil {
		return err
	}
	t, err := openTools(ctx, e, false)
	if err != nil {
		return err
	}
	defer t.Close()
	b, err := t.store.Booking(ctx, *booking)
	if errors.Is(err, bookings.ErrNotFound) {
		return fmt.Errorf("booking %d not found in the database (DATABASE_URL)", *booking)
	}
	if err != nil {
		return err
	}
	if *amount == 0 {
		*amount = b.DepositAmount
	}
	if *currency == "" {
		*currency = b.DepositCurrency
	}
	provider, a, err := triggerPost(p, typ, b, *amount, *currency, *status, *errorCode)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s for booking #%d: answer %s\n", typ, b.ID, a)
	if err := p.refused(provider, a); err != nil {
		return err
	}
	after, changed := waitBooking(ctx, t.store, b.ID, func(now bookings.Booking) bool { return now.UpdatedAt.After(b.UpdatedAt) })
	fmt.Fprintf(e.stdout, "booking: %s\n", describe(after))
	if !changed {
		fmt.Fprintln(e.stdout, "(no change within 10s: the event may change nothing, or no worker runs; `gateway inspect --booking` or the gateway's log tell)")
	}
	return nil
}

// triggerPost posts the webhook of typ for booking b.
func triggerPost(p *poster, typ string, b bookings.Booking, amount int64, currency, status, errorCode string) (string, answer, error) {
	id := randomHex(6)
	pi := b.StripePaymentIntentID
	if pi == "" {
		pi = fmt.Sprintf("pi_trigger_%d_%s", b.ID, id)
	}
	var a answer
	var err error
	switch typ {
	case "payment_intent.succeeded", "payment_intent.payment_failed":
		a, err = p.stripe("evt_trigger_"+id, typ, paymentIntent(b.ID, pi, typ, amount, currency))
	case "charge.refunded":
		a, err = p.stripe("evt_trigger_"+id, typ, refundCharge(b.ID, pi, b.DepositAmount, amount, currency))
	case "sms":
		sid := b.SMSMessageSID
		if sid == "" {
			sid = "SMtrigger" + id // found by the booking's phone, if it is confirmed
		}
		if errorCode == "" && (status == "undelivered" || status == "failed") {
			errorCode = "30003"
		}
		a, err = p.twilio(smsStatus(sid, status, b.CustomerPhone, errorCode))
		return "twilio", a, err
	}
	return "stripe", a, err
}

// waitBooking polls booking id until done says so, or 10 seconds pass.
func waitBooking(ctx context.Context, s bookings.Store, id int64, done func(bookings.Booking) bool) (bookings.Booking, bool) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := s.Booking(ctx, id)
		if err == nil && done(b) {
			return b, true
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return b, false
		}
		time.Sleep(100 * time.Millisecond)
	}
}
