package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
	"github.com/reserveeasy/gateway/reconcile/stripetest"
	"github.com/reserveeasy/gateway/tasks"
)

const e2eStripeKey = "rk_test_e2e_reconcile"

// TestReconcileRestoresLostWebhooks: beside bookings that get every
// webhook, twins lose theirs on purpose: a Stripe payment never posted
// (the Stripe double serves it), SMS delivered and undelivered callbacks
// never posted (the Twilio double answers the status), a hold whose
// scheduled auto-cancel is deleted from Redis. `gateway reconcile` brings
// every twin to the state of the booking that got its webhooks; the lost
// webhook arriving late, and a second run, change nothing.
func TestReconcileRestoresLostWebhooks(t *testing.T) {
	for _, kind := range []string{"postgres", "sqlite"} {
		t.Run(kind, func(t *testing.T) { testReconcileRestores(t, kind) })
	}
}

func testReconcileRestores(t *testing.T, kind string) {
	e := startE2E(t, kind)
	sd := stripetest.Start(t, e2eStripeKey)
	stripeEvent := func(s *story, name, typ, piStatus string) {
		sd.Add(stripetest.Event{ID: "evt_" + name + "_" + s.tag, Type: typ, Created: time.Now().Unix(),
			Object: s.paymentIntent(piStatus)})
	}
	type pair struct {
		name      string
		got, lost *story
	}
	var pairs []pair
	twins := func(name string, n int, status bookings.Status) pair {
		p := pair{name, e.newStory(t, "rcg"+name, 9000+n, status), e.newStory(t, "rcl"+name, 9500+n, status)}
		pairs = append(pairs, p)
		return p
	}

	paid := twins("paid", 1, bookings.StatusPaymentPending)
	paid.got.paid(1)
	stripeEvent(paid.lost, "paid", "payment_intent.succeeded", "succeeded") // never posted

	for i, sms := range []struct{ status, code string }{{"delivered", ""}, {"undelivered", "30003"}} {
		p := twins(sms.status, 2+i, bookings.StatusPaymentPending)
		p.got.paid(1)
		p.lost.paid(1)
		stripeEvent(p.lost, "paid", "payment_intent.succeeded", "succeeded") // posted and applied
		p.got.sms(sms.status, sms.code, 1)
		code := 0
		fmt.Sscan(sms.code, &code)
		if !e.tw.SetStatus(p.lost.sid(), sms.status, code) { // the callback never comes
			t.Fatalf("%s: the Twilio double does not know the SMS", p.name)
		}
	}

	hold := twins("hold", 4, bookings.StatusConfirmed)
	hold.got.failed(1)
	hold.lost.failed(1)
	stripeEvent(hold.lost, "failed", "payment_intent.payment_failed", "requires_payment_method")
	lostHold := hold.lost.booking()
	if err := e.insp.DeleteTask(tasks.QueueHolds, tasks.AutoCancelTaskID(tasks.AutoCancel{BookingID: lostHold.ID,
		HoldExpiresAt: lostHold.HoldExpiresAt})); err != nil {
		t.Fatalf("delete the scheduled auto-cancel (Redis lost it): %v", err)
	}
	hold.got.within("the hold's auto-cancel fires", func() string {
		if b := hold.got.booking(); b.Status != bookings.StatusCancelled {
			return "booking is " + string(b.Status)
		}
		return ""
	})
	hold.lost.within("the lost hold has expired", func() string {
		if time.Now().Before(lostHold.HoldExpiresAt.Add(time.Second)) {
			return "hold not expired yet"
		}
		return ""
	})

	out := e.reconcile(t, sd.URL())
	for _, want := range []struct {
		source string
		fields []string // looked at, missing, applied, already queued, errors
	}{
		{"stripe", []string{"4", "1", "1", "0", "0"}},
		{"twilio", []string{"3", "2", "2", "0", "0"}},
		{"holds", []string{"1", "1", "1", "0", "0"}},
	} {
		if got := reportFields(out, want.source); !cmp.Equal(want.fields, got) {
			t.Errorf("%s: %v, want %v (looked at, missing, applied, already queued, errors)\n%s", want.source, got, want.fields, out)
		}
	}
	settled := func() {
		t.Helper()
		for _, p := range pairs {
			p.lost.within(p.name+": the twin reaches the state of the booking that got its webhooks", func() string {
				if diff := cmp.Diff(p.got.rows(), p.lost.rows()); diff != "" {
					return "(-all webhooks +reconciled):\n" + diff
				}
				return ""
			})
		}
	}
	settled()
	if b := hold.lost.booking(); b.Status != bookings.StatusCancelled || b.CancelReason != bookings.CancelReasonPaymentNotReceived {
		t.Errorf("lost hold: %s %q, want cancelled, payment_not_received", b.Status, b.CancelReason)
	}

	// The lost payment webhook turns up after all: a duplicate.
	paid.lost.paid(1)
	out = e.reconcile(t, sd.URL())
	for _, src := range []string{"stripe", "twilio", "holds"} {
		if f := reportFields(out, src); len(f) != 5 || f[1] != "0" || f[2] != "0" {
			t.Errorf("second run, %s: %v, want nothing missing or applied\n%s", src, f, out)
		}
	}
	settled()
}

// reconcile runs `gateway reconcile` beside the gateway and returns what
// it printed.
func (e *e2e) reconcile(t *testing.T, stripeAPI string) string {
	t.Helper()
	env := map[string]string{"STRIPE_API_KEY": e2eStripeKey}
	for k, v := range e.env {
		env[k] = v
	}
	env["STRIPE_API_BASE_URL"] = stripeAPI
	var out outputBuffer
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	args := []string{"reconcile", "--sms-grace", "1ms", "--hold-grace", "1ms"}
	if err := run(ctx, args, gatewayEnv(env), &out, &out); err != nil {
		t.Fatalf("gateway reconcile: %v\n%s", err, out.String())
	}
	return out.String()
}

// reportFields returns the numbers gateway reconcile printed for source.
func reportFields(out, source string) []string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == source {
			return f[1:]
		}
	}
	return nil
}

// TestReconcileInterval: with RECONCILE_INTERVAL set, the worker
// reconciles by itself: a payment whose webhook never came is applied.
func TestReconcileInterval(t *testing.T) {
	sd := stripetest.Start(t, e2eStripeKey)
	e := startE2EWith(t, "sqlite", map[string]string{"RECONCILE_INTERVAL": "200ms",
		"STRIPE_API_KEY": e2eStripeKey, "STRIPE_API_BASE_URL": sd.URL()})
	s := e.newStory(t, "rcinterval", 9900, bookings.StatusPaymentPending)
	sd.Add(stripetest.Event{ID: "evt_paid_" + s.tag, Type: "payment_intent.succeeded", Created: time.Now().Unix(),
		Object: s.paymentIntent("succeeded")})
	s.within("the worker reconciles the lost payment", func() string {
		if b := s.booking(); !b.DepositPaid || b.Status != bookings.StatusConfirmed {
			return fmt.Sprintf("paid=%v status=%s", b.DepositPaid, b.Status)
		}
		return ""
	})
	if n := len(sd.Requests()); n == 0 {
		t.Error("the Stripe double was never asked")
	}
}

// TestReconcileCommandFailures: a Stripe API failing is reported with a
// non-zero exit while the other sources still run (Twilio skipped when no
// SMS go through it); and while another process holds the reconcile lease,
// the command refuses to run alongside it.
func TestReconcileCommandFailures(t *testing.T) {
	sd := stripetest.Start(t, e2eStripeKey)
	sd.Fail(http.StatusInternalServerError)
	redisURL := redistest.URL(t, redistest.DBCommand)
	env := gatewayEnv(map[string]string{"REDIS_URL": redisURL,
		"DATABASE_URL":   "sqlite:" + filepath.Join(t.TempDir(), "gw.db"),
		"STRIPE_API_KEY": e2eStripeKey, "STRIPE_API_BASE_URL": sd.URL()})
	var out outputBuffer
	err := run(t.Context(), []string{"reconcile"}, env, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "reconcile failed for stripe") {
		t.Errorf("reconcile with Stripe failing = %v, want an error naming stripe\n%s", err, out.String())
	}
	if f := reportFields(out.String(), "holds"); len(f) != 5 {
		t.Errorf("holds did not run: %v\n%s", f, out.String())
	}
	for _, want := range []string{"twilio  skipped: no SMS are sent through Twilio", "stripe: FAILED:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}

	r, err := queue.Open(t.Context(), redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	other := queue.NewLease(r, reconcileLeaseName, time.Minute)
	if ok, err := other.Try(t.Context()); !ok || err != nil {
		t.Fatalf("take the lease as another process: %v, %v", ok, err)
	}
	defer other.Release(context.Background())
	sd.Fail(0)
	out = outputBuffer{}
	err = run(t.Context(), []string{"reconcile"}, env, &out, &out)
	if err == nil || !strings.Contains(err.Error(), "another reconcile is running") {
		t.Errorf("reconcile while the lease is held = %v, want it refused", err)
	}
	if len(sd.Requests()) != 2 {
		t.Errorf("Stripe asked %d times, want 2 (one try and its retry, the refused run none)", len(sd.Requests()))
	}
}
