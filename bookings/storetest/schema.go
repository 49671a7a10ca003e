package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
)

// Migrator is a store that migrates its own schema.
type Migrator interface {
	bookings.Store
	HasDB
	Migrate(ctx context.Context) error
}

// RunSchema checks a store's migrated schema: every column of contract
// (table -> column -> type, as columnsQuery reports them; it takes the
// table name as its only parameter) exists with its type, and migrating a
// second time changes neither the version, the columns nor the data.
func RunSchema(t *testing.T, open func(t *testing.T) Migrator, columnsQuery string, contract map[string]map[string]string) {
	columns := func(t *testing.T, s Migrator, table string) map[string]string {
		t.Helper()
		rows, err := s.DB().QueryContext(t.Context(), columnsQuery, table)
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
	t.Run("contract columns", func(t *testing.T) {
		s := open(t)
		for table, want := range contract {
			got := columns(t, s, table)
			for col, typ := range want {
				if got[col] != typ {
					t.Errorf("%s.%s: type %q, want %q", table, col, got[col], typ)
				}
			}
		}
	})
	t.Run("migrate twice", func(t *testing.T) {
		s := open(t) // migrated once
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
		var n int
		if err := s.DB().QueryRowContext(t.Context(), "SELECT COUNT(*) FROM bookings").Scan(&n); err != nil || n != 1 {
			t.Errorf("bookings rows after a second Migrate: %d, %v; want 1", n, err)
		}
	})
}
