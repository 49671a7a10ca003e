package main

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/bookings/postgres"
	"github.com/reserveeasy/gateway/bookings/postgres/postgrestest"
	"github.com/reserveeasy/gateway/bookings/sqldb"
	"github.com/reserveeasy/gateway/bookings/sqlite"
	"github.com/reserveeasy/gateway/notifications/smtptest"
	"github.com/reserveeasy/gateway/notifications/twiliotest"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
)

// Settings of the end-to-end gateway.
const (
	e2eStripeSecret = "whsec_e2e_0123456789abcdef"
	e2eTwilioToken  = "e2e0123456789abcdef0123456789ab"
	e2eAccountSID   = "AC00000000000000000000000000e2e0"
	e2eFromNumber   = "+15550001111"
	e2eSupport      = "support@reserveeasy.test"
	// e2eHold is PAYMENT_HOLD. Asynq scores scheduled tasks in whole
	// seconds, so an auto-cancel may run up to a second early: the hold
	// leaves the "paid within the hold" story two seconds or more to apply
	// its payment even on a loaded machine.
	e2eHold = 3 * time.Second
)

// e2eTimeout bounds each wait of a story: a webhook's task, its messages,
// a hold expiring.
const e2eTimeout = 30 * time.Second

// e2e is `gateway serve` on real Redis and a real database, talking to a
// real SMTP server and a fake Twilio API, as the stories see it.
type e2e struct {
	g     *gateway
	base  string       // PUBLIC_BASE_URL, which is also where the gateway listens
	store *sqldb.Store // the test's own connection to the gateway's database
	smtp  *smtptest.Server
	tw    *twiliotest.Server
	insp  *asynq.Inspector
	pg    bool // the store is PostgreSQL (placeholders $n)
	// env is the gateway's environment, for commands run beside it.
	env map[string]string
}

// startE2E starts the gateway on a fresh database of kind "postgres" or
// "sqlite" and a flushed Redis database.
func startE2E(t *testing.T, kind string) *e2e {
	t.Helper()
	return startE2EWith(t, kind, nil)
}

// startE2EWith is startE2E with settings of env replacing the harness's
// (an empty value unsets one).
func startE2EWith(t *testing.T, kind string, env map[string]string) *e2e {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e2eTimeout)
	defer cancel()
	var dbURL, sqlitePath string
	switch kind {
	case "postgres":
		dbURL = postgrestest.URL(t)
	case "sqlite":
		sqlitePath = filepath.Join(t.TempDir(), "gw.db")
		dbURL = "sqlite:" + sqlitePath
	}
	redisURL := redistest.URL(t, redistest.DBCommand)
	e := &e2e{
		smtp: smtptest.Start(t, smtptest.Config{}),
		tw:   twiliotest.Start(t, twiliotest.Config{AccountSID: e2eAccountSID, AuthToken: e2eTwilioToken}),
		pg:   kind == "postgres",
	}
	addr := freeAddr(t)
	e.base = "http://" + addr
	settings := map[string]string{
		"HTTP_ADDR":             addr,
		"PUBLIC_BASE_URL":       e.base,
		"REDIS_URL":             redisURL,
		"DATABASE_URL":          dbURL,
		"STRIPE_WEBHOOK_SECRET": e2eStripeSecret,
		"TWILIO_AUTH_TOKEN":     e2eTwilioToken,
		"TWILIO_ACCOUNT_SID":    e2eAccountSID,
		"TWILIO_FROM_NUMBER":    e2eFromNumber,
		"TWILIO_API_BASE_URL":   e.tw.URL(),
		"SMTP_URL":              e.smtp.URL(),
		"SUPPORT_EMAIL":         e2eSupport,
		"PAYMENT_HOLD":          e2eHold.String(),
	}
	for k, v := range env {
		settings[k] = v
	}
	e.env = settings
	e.g = startGateway(t, []string{"serve"}, settings)
	if e.g.addr != addr {
		t.Fatalf("gateway listens on %q, want %q", e.g.addr, addr)
	}
	// The gateway migrated the database; open it as other systems would.
	if e.pg {
		s, err := postgres.Open(ctx, dbURL)
		if err != nil {
			t.Fatal(err)
		}
		e.store = s.Store
	} else {
		s, err := sqlite.Open(ctx, sqlitePath)
		if err != nil {
			t.Fatal(err)
		}
		e.store = s.Store
	}
	t.Cleanup(func() { e.store.Close() })
	r, err := queue.Open(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	e.insp = asynq.NewInspector(r.ConnOpt)
	t.Cleanup(func() { e.insp.Close() })
	return e
}
