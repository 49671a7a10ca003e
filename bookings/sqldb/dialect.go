package sqldb

import (
	"strconv"
	"strings"
	"time"
)

// Dialect is what differs between the databases Store runs on. Queries are
// written once, with ? placeholders, and adapted by the dialect.
type Dialect int

// The supported dialects.
const (
	// Postgres numbers placeholders ($1, $2, ...), locks rows read for
	// update with FOR UPDATE and stores times as TIMESTAMPTZ.
	Postgres Dialect = iota + 1
	// SQLite keeps ? placeholders, has no FOR UPDATE (its transactions must
	// be opened immediate, which makes them exclusive) and stores times as
	// text in sqliteTimeLayout.
	SQLite
)

// sqliteTimeLayout is how times are written to SQLite: UTC, fixed width,
// microseconds, no zone suffix. Text in this layout sorts in time order,
// and so does text written by the schema defaults
// (strftime('%Y-%m-%d %H:%M:%f', 'now')) and by CURRENT_TIMESTAMP.
const sqliteTimeLayout = "2006-01-02 15:04:05.000000"

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	default:
		return "dialect(" + strconv.Itoa(int(d)) + ")"
	}
}

// rebind rewrites the ? placeholders of query for d. Question marks inside
// quoted literals are left alone.
func (d Dialect) rebind(query string) string {
	if d != Postgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	quote := rune(0)
	for _, r := range query {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// forUpdate is the suffix that locks the rows a SELECT reads until the
// transaction ends.
func (d Dialect) forUpdate() string {
	if d == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// args adapts query arguments for d: every time.Time is stored in UTC with
// microsecond precision, and the zero time as NULL.
func (d Dialect) args(in []any) []any {
	var out []any
	for i, a := range in {
		t, ok := a.(time.Time)
		if !ok {
			continue
		}
		if out == nil {
			out = append([]any(nil), in...)
		}
		out[i] = d.timeArg(t)
	}
	if out == nil {
		return in
	}
	return out
}

func (d Dialect) timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	t = Time(t)
	if d == SQLite {
		return t.Format(sqliteTimeLayout)
	}
	return t
}

// Time returns t as a store keeps it: in UTC, truncated to microseconds
// (the precision of PostgreSQL timestamps). The zero time stays zero.
func Time(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Microsecond)
}

// keyPrefix returns a condition matching rows whose column col starts with
// prefix, case-sensitively, and its one argument. Both forms can use an
// index on col.
func (d Dialect) keyPrefix(col, prefix string) (cond string, arg string) {
	if d == SQLite {
		// GLOB is case-sensitive (LIKE is not in SQLite); [x] quotes x.
		r := strings.NewReplacer("[", "[[]", "*", "[*]", "?", "[?]")
		return col + " GLOB ?", r.Replace(prefix) + "*"
	}
	r := strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`)
	return col + ` LIKE ? ESCAPE '\'`, r.Replace(prefix) + "%"
}

// now is the database's current time as an SQL expression, in the form the
// dialect stores times in. Claims are judged on it, never on a worker's
// clock, so workers whose clocks disagree still agree on whose claim is
// fresh.
func (d Dialect) now() string {
	if d == SQLite {
		return `strftime('%Y-%m-%d %H:%M:%f', 'now')`
	}
	return `now()`
}

// nowMinus is the database's current time less a duration, an SQL
// expression taking one argument made by durationArg.
func (d Dialect) nowMinus() string {
	if d == SQLite {
		return `strftime('%Y-%m-%d %H:%M:%f', 'now', ?)`
	}
	return `now() - make_interval(secs => CAST(? AS double precision))`
}

// durationArg is the argument nowMinus takes for dur.
func (d Dialect) durationArg(dur time.Duration) any {
	if d == SQLite {
		return strconv.FormatFloat(-dur.Seconds(), 'f', 6, 64) + " seconds"
	}
	return dur.Seconds()
}
