package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/postgres"
	"github.com/reserveeasy/gateway/bookings/postgres/postgrestest"
	"github.com/reserveeasy/gateway/bookings/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bookings.Store { return postgrestest.Open(t) })
}

// contract lists the columns other systems and the acceptance tests rely
// on, with their PostgreSQL data types.
var contract = map[string]map[string]string{
	"bookings": {
		"id": "bigint", "customer_name": "text", "customer_phone": "text", "customer_email": "text",
		"status": "text", "created_at": "timestamp with time zone", "updated_at": "timestamp with time zone",
		"sms_message_sid": "text", "sms_status": "text", "sms_delivered": "boolean",
		"sms_delivered_at": "timestamp with time zone", "deposit_amount": "bigint", "deposit_currency": "text",
		"deposit_paid": "boolean", "deposit_paid_at": "timestamp with time zone",
		"stripe_payment_intent_id": "text", "deposit_refunded": "boolean",
		"refunded_at": "timestamp with time zone", "cancelled_at": "timestamp with time zone",
		"cancel_reason": "text", "hold_expires_at": "timestamp with time zone",
	},
	"transactions": {
		"id": "bigint", "booking_id": "bigint", "kind": "text", "amount": "bigint", "currency": "text",
		"stripe_object_id": "text", "stripe_event_id": "text", "created_at": "timestamp with time zone",
	},
	"webhook_events": {
		"id": "bigint", "source": "text", "event_id": "text", "type": "text",
		"received_at": "timestamp with time zone", "processed_at": "timestamp with time zone",
		"booking_id": "bigint", "outcome": "text",
	},
	"notifications": {
		"id": "bigint", "booking_id": "bigint", "channel": "text", "template": "text", "recipient": "text",
		"status": "text", "provider_id": "text", "created_at": "timestamp with time zone",
		"sent_at": "timestamp with time zone", "notification_key": "text", "subject": "text", "body": "text",
		"html": "text", "attempts": "integer", "last_error": "text", "claimed_at": "timestamp with time zone",
	},
}

func TestSchema(t *testing.T) {
	storetest.RunSchema(t, func(t *testing.T) storetest.Migrator { return postgrestest.Open(t) }, `SELECT column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, contract)
}

// TestMigrateConcurrently migrates one fresh database from several
// processes' worth of stores at once: the advisory lock makes them take
// turns.
func TestMigrateConcurrently(t *testing.T) {
	u := postgrestest.URL(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := postgres.Open(context.Background(), u)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = s.Migrate(t.Context())
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Errorf("Migrate: %v", err)
		}
	}
}

func TestOpenFailsOnUnreachableServer(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=2")
	if err == nil {
		t.Fatal("Open of a closed port succeeded, want an error")
	}
}
