// Package sqlitetest gives tests a migrated SQLite store on a file of their
// own, removed when the test ends.
package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/bookings/sqlite"
)

// Open returns a store on a new, migrated SQLite file in tb.TempDir(),
// closed when tb ends.
func Open(tb testing.TB) *sqlite.Store {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	path := filepath.Join(tb.TempDir(), "gateway.db")
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatalf("sqlitetest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("sqlitetest: %v", err)
		}
	})
	if err := s.Migrate(ctx); err != nil {
		tb.Fatalf("sqlitetest: %v", err)
	}
	return s
}
