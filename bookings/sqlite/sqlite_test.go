package sqlite_test

import (
	"context"
	"os"
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

func TestSchema(t *testing.T) {
	storetest.RunSchema(t, func(t *testing.T) storetest.Migrator { return sqlitetest.Open(t) }, "SELECT name, type FROM pragma_table_info(?)", contract)
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

// TestFilesArePrivate: the database holds customers' names, emails and
// phones; a new one is readable by its owner only, whatever the umask or
// the mode of an existing directory.
func TestFilesArePrivate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "gateway.db")
	s, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		if err != nil {
			continue // no WAL yet
		}
		if mode := fi.Mode().Perm(); mode&0o077 != 0 {
			t.Errorf("%s has mode %o, want no access for group or others", filepath.Base(f), mode)
		}
	}
}
