// Package storetest is the conformance suite for bookings.Store, run
// against every implementation the way testing/fstest.TestFS is run
// against file systems:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) bookings.Store { return sqlitetest.Open(t) })
//	}
package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/bookings"
)

// HasDB is implemented by stores that expose their database handle. The
// suite needs it to write and inspect rows with plain SQL, the way other
// systems sharing the database do; the SQL it sends has no placeholders,
// so it runs unchanged on PostgreSQL and SQLite.
type HasDB interface {
	DB() *sql.DB
}

// Run runs the suite. open must return a store on a new, migrated, empty
// database (one per call: subtests count rows) that is closed when t ends.
// The store must implement HasDB.
func Run(t *testing.T, open func(t *testing.T) bookings.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s bookings.Store)
	}{
		{"CreateAndGet", testCreateAndGet},
		{"NotFound", testNotFound},
		{"CreateErrorHidesCustomer", testCreateErrorHidesCustomer},
		{"PlainSQLInsert", testPlainSQLInsert},
		{"UpdateBooking", testUpdateBooking},
		{"Lookups", testLookups},
		{"Apply", testApply},
		{"ApplyRollback", testApplyRollback},
		{"ApplyConcurrentSameEvent", testApplyConcurrentSameEvent},
		{"ApplyConcurrentBookingLock", testApplyConcurrentBookingLock},
		{"Run", testRun},
		{"Transactions", testTransactions},
		{"PartialRefunds", testPartialRefunds},
		{"Notifications", testNotifications},
		{"ClaimNotification", testClaimNotification},
		{"Events", testEvents},
		{"History", testHistory},
		{"ReconcilePoint", testReconcilePoint},
		{"ExpiredHolds", testExpiredHolds},
		{"UnfinishedSMS", testUnfinishedSMS},
		{"Ping", testPing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.fn(t, open(t))
		})
	}
}

// t0 is the suite's reference time: UTC, microsecond precision (what
// stores keep).
var t0 = time.Date(2025, 3, 1, 18, 30, 15, 123456000, time.UTC)

// fullBooking returns a booking with every field set (but ID and the
// timestamps the store may assign).
func fullBooking() bookings.Booking {
	return bookings.Booking{
		CustomerName:          "Ada Lovelace",
		CustomerPhone:         "+15550001111",
		CustomerEmail:         "ada@example.com",
		Status:                bookings.StatusPaymentPending,
		CreatedAt:             t0.Add(-2 * time.Hour),
		UpdatedAt:             t0.Add(-time.Hour),
		SMSMessageSID:         "SM0123456789abcdef",
		SMSStatus:             "delivered",
		SMSDelivered:          true,
		SMSDeliveredAt:        t0.Add(time.Minute),
		DepositAmount:         6000,
		DepositCurrency:       "eur",
		DepositPaid:           true,
		DepositPaidAt:         t0.Add(2 * time.Minute),
		StripePaymentIntentID: "pi_123",
		DepositRefunded:       true,
		RefundedAt:            t0.Add(3 * time.Minute),
		CancelledAt:           t0.Add(4 * time.Minute),
		CancelReason:          bookings.CancelReasonPaymentNotReceived,
		HoldExpiresAt:         t0.Add(5 * time.Minute),
	}
}

// minimalBooking returns a booking with only the customer fields set.
func minimalBooking(phone string) bookings.Booking {
	return bookings.Booking{CustomerName: "Grace Hopper", CustomerPhone: phone}
}

func mustCreate(t *testing.T, s bookings.Store, b bookings.Booking) bookings.Booking {
	t.Helper()
	got, err := s.CreateBooking(t.Context(), b)
	if err != nil {
		t.Fatalf("CreateBooking: %v", err)
	}
	return got
}

func mustGet(t *testing.T, s bookings.Store, id int64) bookings.Booking {
	t.Helper()
	got, err := s.Booking(t.Context(), id)
	if err != nil {
		t.Fatalf("Booking(%d): %v", id, err)
	}
	return got
}

func rawDB(t *testing.T, s bookings.Store) *sql.DB {
	t.Helper()
	h, ok := s.(HasDB)
	if !ok {
		t.Fatalf("store %T does not implement storetest.HasDB", s)
	}
	return h.DB()
}

// rawInt runs a query without placeholders that returns one integer.
func rawInt(t *testing.T, s bookings.Store, query string, args ...any) int64 {
	t.Helper()
	q := fmt.Sprintf(query, args...)
	var n int64
	if err := rawDB(t, s).QueryRowContext(t.Context(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// checkTimesUTC fails t when a non-zero time of b is not in UTC.
func checkTimesUTC(t *testing.T, b bookings.Booking) {
	t.Helper()
	for name, v := range map[string]time.Time{
		"CreatedAt": b.CreatedAt, "UpdatedAt": b.UpdatedAt,
		"SMSDeliveredAt": b.SMSDeliveredAt, "DepositPaidAt": b.DepositPaidAt,
		"RefundedAt": b.RefundedAt, "CancelledAt": b.CancelledAt,
		"HoldExpiresAt": b.HoldExpiresAt,
	} {
		if !v.IsZero() && v.Location() != time.UTC {
			t.Errorf("%s = %v, want a time in UTC", name, v)
		}
	}
}

// checkNear fails t when got is not within tolerance of want.
func checkNear(t *testing.T, name string, got, want time.Time, tolerance time.Duration) {
	t.Helper()
	if d := got.Sub(want).Abs(); d > tolerance {
		t.Errorf("%s = %v, want within %v of %v", name, got, tolerance, want)
	}
}

func diff(t *testing.T, what string, want, got any, opts ...cmp.Option) {
	t.Helper()
	if d := cmp.Diff(want, got, opts...); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// run runs fn in s.Run and fails t on error.
func run(t *testing.T, s bookings.Store, fn func(ctx context.Context, tx bookings.Tx) error) {
	t.Helper()
	if err := s.Run(t.Context(), fn); err != nil {
		t.Fatalf("Run: %v", err)
	}
}
