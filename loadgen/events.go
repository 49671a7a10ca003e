package loadgen

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reserveeasy/gateway/verify"
)

// Provider is who a generated webhook claims to come from.
type Provider string

// The providers the generator can play.
const (
	Stripe Provider = "stripe"
	Twilio Provider = "twilio"
)

// Event is one webhook to send: its body and the headers that go with it,
// except the signature, which Sign adds at send time (a Stripe signature
// carries a timestamp that must be recent).
type Event struct {
	// Key identifies the event for the receiver's dedupe: Stripe's event
	// id, Twilio's idempotency token. A duplicate repeats its original's key.
	Key         string
	Body        []byte
	ContentType string
	// Header is extra headers (Twilio's I-Twilio-Idempotency-Token).
	Header http.Header
	// Duplicate is true when this event repeats an earlier one.
	Duplicate bool
	params    url.Values // Twilio: the form, for signing
}

// Signer signs events for one target: Stripe with its webhook secret and
// the current time, Twilio with its auth token over the URL it calls.
type Signer struct {
	Provider     Provider
	StripeSecret string
	TwilioToken  string
	// URL is the full URL a Twilio signature covers (the target's URL, or
	// its PUBLIC_BASE_URL + path).
	URL string
}

// Sign returns the signature header's name and value for ev at now.
func (s Signer) Sign(ev *Event, now time.Time) (name, value string) {
	if s.Provider == Twilio {
		return "X-Twilio-Signature", verify.SignTwilio(s.TwilioToken, s.URL, ev.params)
	}
	return "Stripe-Signature", verify.SignStripe(ev.Body, s.StripeSecret, now)
}

// Mix says what a run sends.
type Mix struct {
	Provider Provider
	// Duplicates is the share (0 to 1) of requests that repeat an earlier
	// event, the way a sender retries after a lost answer.
	Duplicates float64
	// Failed is the share of Stripe events that are
	// payment_intent.payment_failed instead of payment_intent.succeeded.
	Failed float64
	// BookingIDs, when set, are the bookings the events are about, one
	// each in order (the worker benchmark's real bookings); otherwise
	// events name random bookings the database need not have.
	BookingIDs []int64
	// Seed makes the sequence reproducible; Prefix makes ids unique across
	// runs (a random one when empty).
	Seed   uint64
	Prefix string
}

// Generate returns n events following m. A duplicate repeats an event at
// least window requests earlier (window: the concurrency, so that the
// original has most likely been answered), re-signed when sent, as a
// sender's retry is. The first window events are never duplicates.
func Generate(m Mix, n, window int) []Event {
	rng := rand.New(rand.NewPCG(m.Seed, m.Seed^0x9e3779b97f4a7c15))
	prefix := m.Prefix
	if prefix == "" {
		prefix = strconv.FormatUint(rand.Uint64(), 36)
	}
	out := make([]Event, 0, n)
	fresh := 0
	for i := 0; i < n; i++ {
		if i > window && m.Duplicates > 0 && rng.Float64() < m.Duplicates {
			orig := out[rng.IntN(i-window)]
			orig.Duplicate = true
			out = append(out, orig)
			continue
		}
		var booking int64
		if fresh < len(m.BookingIDs) {
			booking = m.BookingIDs[fresh]
		} else {
			booking = 1_000_000 + rng.Int64N(1_000_000)
		}
		id := fmt.Sprintf("%s_%07d", prefix, fresh)
		fresh++
		if m.Provider == Twilio {
			out = append(out, twilioEvent(rng, id, booking))
		} else {
			typ := "payment_intent.succeeded"
			if m.Failed > 0 && rng.Float64() < m.Failed {
				typ = "payment_intent.payment_failed"
			}
			out = append(out, stripeEvent(rng, id, typ, booking))
		}
	}
	return out
}

// twilioStatuses are the statuses a status callback carries, weighted the
// way they arrive (most messages report sent, then delivered).
var twilioStatuses = []string{"sent", "sent", "delivered", "delivered", "delivered", "undelivered"}

func twilioEvent(rng *rand.Rand, id string, booking int64) Event {
	sid := "SM" + hex32(rng)
	status := twilioStatuses[rng.IntN(len(twilioStatuses))]
	p := url.Values{
		"AccountSid":          {"AC" + hex32(rng)},
		"ApiVersion":          {"2010-04-01"},
		"From":                {"+15005550006"},
		"To":                  {fmt.Sprintf("+1555%07d", booking%10_000_000)},
		"MessageSid":          {sid},
		"SmsSid":              {sid},
		"MessageStatus":       {status},
		"SmsStatus":           {status},
		"MessagingServiceSid": {"MG" + hex32(rng)},
		"RawDlrDoneDate":      {"2401151230"},
	}
	if status == "undelivered" {
		p.Set("ErrorCode", "30003")
	}
	token := "tw_" + id
	return Event{
		Key: token, Body: []byte(p.Encode()), ContentType: "application/x-www-form-urlencoded",
		Header: http.Header{"I-Twilio-Idempotency-Token": {token}}, params: p,
	}
}

func hex32(rng *rand.Rand) string {
	return fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64())
}

func stripeEvent(rng *rand.Rand, id, typ string, booking int64) Event {
	evt := "evt_" + id
	pi := "pi_" + id
	amount := 2000 + 500*rng.Int64N(20)
	created := time.Now().Unix()
	lastErr := "null"
	status, received := "succeeded", amount
	if typ == "payment_intent.payment_failed" {
		status, received = "requires_payment_method", 0
		lastErr = `{"charge":"ch_` + id + `","code":"card_declined","decline_code":"insufficient_funds","doc_url":"https://stripe.com/docs/error-codes/card-declined","message":"Your card has insufficient funds.","payment_method":{"id":"pm_` + id + `","object":"payment_method","type":"card"},"type":"card_error"}`
	}
	r := strings.NewReplacer(
		"{evt}", evt, "{pi}", pi, "{id}", id, "{type}", typ, "{amount}", strconv.FormatInt(amount, 10),
		"{received}", strconv.FormatInt(received, 10), "{status}", status, "{created}", strconv.FormatInt(created, 10),
		"{booking}", strconv.FormatInt(booking, 10), "{last_error}", lastErr, "{secret}", hex32(rng)[:24],
	)
	return Event{Key: evt, Body: []byte(r.Replace(stripeTemplate)), ContentType: "application/json; charset=utf-8"}
}

// stripeTemplate is a payment_intent event as Stripe sends it (API version
// 2023-10-16, pretty-printed like Stripe's deliveries), about 3 KB.
const stripeTemplate = `{
  "id": "{evt}",
  "object": "event",
  "api_version": "2023-10-16",
  "created": {created},
  "data": {
    "object": {
      "id": "{pi}",
      "object": "payment_intent",
      "amount": {amount},
      "amount_capturable": 0,
      "amount_details": {
        "tip": {}
      },
      "amount_received": {received},
      "application": null,
      "application_fee_amount": null,
      "automatic_payment_methods": {
        "allow_redirects": "always",
        "enabled": true
      },
      "canceled_at": null,
      "cancellation_reason": null,
      "capture_method": "automatic",
      "client_secret": "{pi}_secret_{secret}",
      "confirmation_method": "automatic",
      "created": {created},
      "currency": "usd",
      "customer": "cus_{id}",
      "description": "Deposit for booking {booking}",
      "invoice": null,
      "last_payment_error": {last_error},
      "latest_charge": "ch_{id}",
      "livemode": false,
      "metadata": {
        "booking_id": "{booking}",
        "restaurant_id": "r_1042",
        "party_size": "4",
        "reservation_at": "2024-01-20T19:30:00-05:00",
        "table_zone": "terrace",
        "app_version": "ios-5.12.1",
        "locale": "en-US",
        "source": "reserveeasy-app"
      },
      "next_action": null,
      "on_behalf_of": null,
      "payment_method": "pm_{id}",
      "payment_method_configuration_details": {
        "id": "pmc_1OXbVkAbCdEfGhIjKlMnOpQr",
        "parent": null
      },
      "payment_method_options": {
        "card": {
          "installments": null,
          "mandate_options": null,
          "network": null,
          "request_three_d_secure": "automatic"
        },
        "link": {
          "persistent_token": null
        },
        "us_bank_account": {
          "financial_connections": {
            "permissions": [
              "payment_method"
            ],
            "prefetch": []
          },
          "mandate_options": {},
          "verification_method": "automatic"
        }
      },
      "payment_method_types": [
        "card",
        "link",
        "us_bank_account"
      ],
      "processing": null,
      "receipt_email": "guest.{booking}@example.com",
      "review": null,
      "setup_future_usage": null,
      "shipping": {
        "address": {
          "city": "Brooklyn",
          "country": "US",
          "line1": "118 Atlantic Avenue",
          "line2": null,
          "postal_code": "11201",
          "state": "NY"
        },
        "carrier": null,
        "name": "Guest {booking}",
        "phone": null,
        "tracking_number": null
      },
      "source": null,
      "statement_descriptor": null,
      "statement_descriptor_suffix": "RESERVEEASY",
      "status": "{status}",
      "transfer_data": null,
      "transfer_group": null
    }
  },
  "livemode": false,
  "pending_webhooks": 2,
  "request": {
    "id": "req_{id}",
    "idempotency_key": "{secret}-{booking}-deposit"
  },
  "type": "{type}"
}`

// TwilioCallback returns a status callback with form p (signed when sent,
// over the form), its I-Twilio-Idempotency-Token token, for tests that
// build their own callbacks (make test-faults' order storm).
func TwilioCallback(p url.Values, token string) Event {
	return Event{
		Key: token, Body: []byte(p.Encode()), ContentType: "application/x-www-form-urlencoded",
		Header: http.Header{"I-Twilio-Idempotency-Token": {token}}, params: p,
	}
}
