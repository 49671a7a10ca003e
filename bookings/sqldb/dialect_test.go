package sqldb

import (
	"testing"
	"time"
)

func TestRebind(t *testing.T) {
	tests := []struct {
		d     Dialect
		query string
		want  string
	}{
		{Postgres, "SELECT 1", "SELECT 1"},
		{Postgres, "a = ? AND b = ?", "a = $1 AND b = $2"},
		{Postgres, "a = '?' AND b = ? AND c LIKE ? ESCAPE '\\'", "a = '?' AND b = $1 AND c LIKE $2 ESCAPE '\\'"},
		{Postgres, `"we?ird" = ?`, `"we?ird" = $1`},
		{SQLite, "a = ? AND b = ?", "a = ? AND b = ?"},
	}
	for _, tt := range tests {
		if got := tt.d.rebind(tt.query); got != tt.want {
			t.Errorf("%s.rebind(%q) = %q, want %q", tt.d, tt.query, got, tt.want)
		}
	}
}

func TestKeyPrefix(t *testing.T) {
	tests := []struct {
		d        Dialect
		prefix   string
		wantCond string
		wantArg  string
	}{
		{Postgres, "stripe:evt_1:", `k LIKE ? ESCAPE '\'`, `stripe:evt\_1:%`},
		{Postgres, `a%b\c`, `k LIKE ? ESCAPE '\'`, `a\%b\\c%`},
		{SQLite, "stripe:evt_1:", "k GLOB ?", "stripe:evt_1:*"},
		{SQLite, "a*b?c[d", "k GLOB ?", "a[*]b[?]c[[]d*"},
	}
	for _, tt := range tests {
		cond, arg := tt.d.keyPrefix("k", tt.prefix)
		if cond != tt.wantCond || arg != tt.wantArg {
			t.Errorf("%s.keyPrefix(%q) = %q, %q; want %q, %q", tt.d, tt.prefix, cond, arg, tt.wantCond, tt.wantArg)
		}
	}
}

func TestTimeArg(t *testing.T) {
	at := time.Date(2025, 3, 1, 19, 30, 15, 123456789, time.FixedZone("CET", 3600))
	if got := SQLite.timeArg(at); got != "2025-03-01 18:30:15.123456" {
		t.Errorf("SQLite.timeArg = %v, want 2025-03-01 18:30:15.123456", got)
	}
	want := time.Date(2025, 3, 1, 18, 30, 15, 123456000, time.UTC)
	if got, ok := Postgres.timeArg(at).(time.Time); !ok || !got.Equal(want) || got.Location() != time.UTC {
		t.Errorf("Postgres.timeArg = %v, want %v", got, want)
	}
	for _, d := range []Dialect{Postgres, SQLite} {
		if got := d.timeArg(time.Time{}); got != nil {
			t.Errorf("%s.timeArg(zero) = %v, want nil (NULL)", d, got)
		}
	}
}

func TestNullTimeScan(t *testing.T) {
	want := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, in := range []any{
		"2025-01-02 03:04:05", "2025-01-02T03:04:05Z", "2025-01-02 03:04:05.000",
		"2025-01-02 04:04:05+01:00", []byte("2025-01-02T03:04:05"), want.In(time.FixedZone("X", 7200)),
	} {
		var got time.Time
		if err := (nullTime{&got}).Scan(in); err != nil || !got.Equal(want) || got.Location() != time.UTC {
			t.Errorf("Scan(%v) = %v, %v; want %v", in, got, err, want)
		}
	}
	got := time.Now()
	if err := (nullTime{&got}).Scan(nil); err != nil || !got.IsZero() {
		t.Errorf("Scan(nil) = %v, %v; want the zero time", got, err)
	}
	if err := (nullTime{&got}).Scan("yesterday"); err == nil {
		t.Error(`Scan("yesterday") succeeded, want an error`)
	}
}
