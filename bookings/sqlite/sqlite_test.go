package sqlite_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/bookings/sqlite"
	"github.com/reserveeasy/gateway/bookings/sqlite/sqlitetest"
	"github.com/reserveeasy/gateway/bookings/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) bookings.Store { return sqlitetest.Open(t) })
}

// contract lists the columns other systems and the acceptance tests rely
// on, with their declared SQLite types.
var contract = map[string]map[string]string{
	"bookings": {
		"id": "INTEGER", "customer_name": "TEXT", "customer_phone": "TEXT", "customer_email": "TEXT",
		"status": "TEXT", "created_at": "DATETIME", "updated_at": "DATETIME", "sms_message_sid": "TEXT",
		"sms_status": "TEXT", "sms_delivered": "BOOLEAN", "sms_delivered_at": "DATETIME",
		"deposit_amount": "BIGINT", "deposit_currency": "TEXT", "deposit_paid": "BOOLEAN",
		"deposit_paid_at": "DATETIME", "stripe_payment_intent_id": "TEXT", "deposit_refunded": "BOOLEAN",
		"refunded_at": "DATETIME", "cancelled_at": "DATETIME", "cancel_reason": "TEXT", "hold_expires_at": "DATETIME",
	},
	"transactions": {
		"id": "INTEGER", "booking_id": "INTEGER", "kind": "TEXT", "amount": "BIGINT", "currency": "TEXT",
		"stripe_object_id": "TEXT", "stripe_event_id": "TEXT", "created_at": "DATETIME",
	},
	"webhook_events": {
		"id": "INTEGER", "source": "TEXT", "event_id": "TEXT", "type": "TEXT", "received_at": "DATETIME",
		"processed_at": "DATETIME", "booking_id": "INTEGER", "outcome": "TEXT",
	},
	"notifications": {
		"id": "INTEGER", "booking_id": "INTEGER", "channel": "TEXT", "template": "TEXT", "recipient": "TEXT",
		"status": "TEXT", "provider_id": "TEXT", "created_at": "DATETIME", "sent_at": "DATETIME",
		"notification_key": "TEXT", "subject": "TEXT", "body": "TEXT", "html": "TEXT", "attempts": "INTEGER",
		"last_error": "TEXT", "claimed_at": "DATETIME",
	},
}

// columns returns the columns of table and their declared types.
func columns(t *testing.T, s *sqlite.Store, table string) map[string]string {
	t.Helper()
	rows, err := s.DB().QueryContext(t.Context(), "SELECT name, type FROM pragma_table_info(?)", table)
	if err != nil {
		t.Fatalf("list columns of %s: %v", table, err)
	}
	defer rows.Close()
	got := map[string]string{}
	for rows.Next() {
		var name, typ string
		if err := rows.Scan(&name, &typ); err != nil {
			t.Fatal(err)
		}
		got[name] = typ
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSchemaHasContractColumns(t *testing.T) {
	s := sqlitetest.Open(t)
	for table, want := range contract {
		got := columns(t, s, table)
		for col, typ := range want {
			if got[col] != typ {
				t.Errorf("%s.%s: type %q, want %q", table, col, got[col], typ)
			}
		}
	}
}

func TestMigrateTwiceIsNoOp(t *testing.T) {
	s := sqlitetest.Open(t) // migrated once
	version := func() int64 {
		var v int64
		if err := s.DB().QueryRowContext(t.Context(), "SELECT max(version_id) FROM goose_db_version").Scan(&v); err != nil {
			t.Fatalf("read goose version: %v", err)
		}
		return v
	}
	before, schema := version(), columns(t, s, "bookings")
	if _, err := s.CreateBooking(t.Context(), bookings.Booking{CustomerName: "A", CustomerPhone: "+1"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if after := version(); after != before {
		t.Errorf("version %d after a second Migrate, want %d", after, before)
	}
	if d := cmp.Diff(schema, columns(t, s, "bookings")); d != "" {
		t.Errorf("bookings columns changed (-want +got):\n%s", d)
	}
}

// TestPragmas checks every connection has the settings Open documents.
func TestPragmas(t *testing.T) {
	s := sqlitetest.Open(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{"busy_timeout", "5000"},
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
	}
	for _, tt := range tests {
		var got string
		if err := s.DB().QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
			t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
		}
		if got != tt.want {
			t.Errorf("PRAGMA %s = %q, want %q", tt.pragma, got, tt.want)
		}
	}
}

// TestReopen checks data and times survive closing and reopening the file,
// and Open creates missing directories.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "b", "gateway.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 6, 7, 8, 9, 10, 11000, time.UTC)
	b, err := s.CreateBooking(t.Context(), bookings.Booking{CustomerName: "A", CustomerPhone: "+1", CreatedAt: at})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Booking(t.Context(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(b, got); d != "" {
		t.Errorf("booking after reopening (-want +got):\n%s", d)
	}
}
