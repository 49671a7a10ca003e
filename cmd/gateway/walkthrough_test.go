package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/queue/redistest"
)

// TestREADMEWalkthrough is the README's "one booking's whole story": create
// a booking, trigger a payment and an SMS failure, see the story in
// gateway inspect --booking and on /ops/bookings/ID.
func TestREADMEWalkthrough(t *testing.T) {
	env := map[string]string{
		"REDIS_URL": redistest.URL(t, redistest.DBCommand), "DATABASE_URL": sqliteURL(t),
		"STRIPE_WEBHOOK_SECRET": "whsec_walkthrough_test", "TWILIO_AUTH_TOKEN": "walkthrough_token",
		"OPS_USERNAME": "ops", "OPS_PASSWORD": "walk-pw",
	}
	g := startGateway(t, []string{"serve"}, env)
	out, err := tool(env, "bookings", "create", "--name", "Ada Lovelace", "--phone", "+15551230001", "--email", "ada@example.com", "--deposit", "6000", "--currency", "usd")
	m := regexp.MustCompile(`booking (\d+) created`).FindStringSubmatch(out)
	if err != nil || m == nil {
		t.Fatalf("bookings create: %v\n%s", err, out)
	}
	id := m[1]
	for _, args := range [][]string{
		{"trigger", "payment_intent.succeeded", "--booking", id, "--url", g.url},
		{"trigger", "sms", "--booking", id, "--status", "undelivered", "--url", g.url},
	} {
		if out, err := tool(env, args...); err != nil || !strings.Contains(out, "answer 200") {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	// The story, in order: the messages are sent after their events'
	// commits, so wait until the fallback email has its own outcome
	// (logged: no SMTP_URL or Twilio account is set).
	order := []string{
		"created", "booking created, deposit $60.00",
		"event", "stripe payment_intent.succeeded",
		"message", "sms booking_confirmation_sms to +1******0001: logged",
		"event", "sms.undelivered",
		"message", "email booking_confirmation_email to a***@example.com: logged",
	}
	var story string
	eventually(t, 20*time.Second, func() string {
		story, err = tool(env, "inspect", "--booking", id)
		if err != nil {
			return err.Error()
		}
		rest := story
		for _, want := range order {
			i := strings.Index(rest, want)
			if i < 0 {
				return "inspect --booking lacks " + want + " in order:\n" + story
			}
			rest = rest[i+len(want):]
		}
		return ""
	})
	for _, want := range []string{"deposit paid", "payment $60.00", "support_alert", "confirmed, deposit $60.00 paid=true", "sms undelivered"} {
		if !strings.Contains(story, want) {
			t.Errorf("inspect --booking lacks %q:\n%s", want, story)
		}
	}
	req, _ := http.NewRequest(http.MethodGet, g.url+"/ops/bookings/"+id, nil)
	req.SetBasicAuth("ops", "walk-pw")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET /ops/bookings/%s = %d, want 200", id, res.StatusCode)
	}
}
