package opsview

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/tasks"
)

func TestFilterValidate(t *testing.T) {
	for _, tt := range []struct {
		f    Filter
		want string // "" for valid
	}{
		{Filter{Limit: 50}, ""},
		{Filter{Outcome: "invalid_signature", Provider: "twilio", Type: "delivered", BookingID: 3, Limit: 1000}, ""},
		{Filter{Outcome: "rejected", Limit: 50}, `--outcome "rejected": want one of`},
		{Filter{Provider: "paypal", Limit: 50}, `--provider "paypal"`},
		{Filter{Type: "Payment Intent", Limit: 50}, `--type "Payment Intent"`},
		{Filter{BookingID: -1, Limit: 50}, "--booking -1"},
		{Filter{Limit: 0}, "--limit 0: want 1 to 1000"},
	} {
		err := tt.f.Validate()
		if tt.want == "" && err != nil || tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("%+v.Validate() = %v, want %q", tt.f, err, tt.want)
		}
	}
}

func TestParseFilter(t *testing.T) {
	now := time.Date(2025, 3, 1, 18, 0, 0, 0, time.UTC)
	f, since, err := parseFilter(map[string][]string{"outcome": {"ignored"}, "booking": {"4"}, "since": {"2h"}, "limit": {"10"}}, now)
	want := Filter{Outcome: "ignored", BookingID: 4, Since: now.Add(-2 * time.Hour), Limit: 10}
	if err != nil || since != "2h" || !cmp.Equal(want, f) {
		t.Errorf("parseFilter = %+v, %q, %v; want %+v", f, since, err, want)
	}
	for _, q := range []map[string][]string{{"booking": {"x"}}, {"since": {"soon"}}, {"limit": {"many"}}, {"provider": {"paypal"}}} {
		if _, _, err := parseFilter(q, now); err == nil {
			t.Errorf("parseFilter(%v) accepted", q)
		}
	}
}

// fakeLog serves entries newest first in pages, as queue.RequestLog.
type fakeLog []tasks.Request

func (l fakeLog) List(_ context.Context, before string, count int64) ([]tasks.Request, error) {
	i := 0
	if before != "" {
		for i < len(l) && l[i].ID != before {
			i++
		}
		i++
	}
	end := min(len(l), i+int(count))
	if i > len(l) {
		return nil, nil
	}
	return l[i:end], nil
}

func TestRequestsFiltersAndPages(t *testing.T) {
	now := time.Now()
	var log fakeLog
	for i := range 1200 { // more than two pages
		o, p := "invalid_signature", "stripe"
		if i%3 == 0 {
			o, p = "bad_request", "twilio"
		}
		log = append(log, tasks.Request{ID: string(rune('a'+i%26)) + time.Duration(i).String(), At: now.Add(-time.Duration(i) * time.Minute), Provider: p, Outcome: o})
	}
	src := Sources{Log: log}
	for _, tt := range []struct {
		f    Filter
		want int
	}{
		{Filter{Limit: 1000}, 1000},
		{Filter{Provider: "twilio", Limit: 1000}, 400},
		{Filter{Outcome: "invalid_signature", Since: now.Add(-59*time.Minute - 30*time.Second), Limit: 1000}, 40},
	} {
		rows, err := Requests(context.Background(), src, tt.f)
		if err != nil || len(rows) != tt.want {
			t.Errorf("Requests(%+v) = %d rows, %v; want %d", tt.f, len(rows), err, tt.want)
		}
	}
}

func TestTaskEnding(t *testing.T) {
	for _, tt := range []struct {
		ti   asynq.TaskInfo
		want string
	}{
		{asynq.TaskInfo{State: asynq.TaskStatePending}, "queued"},
		{asynq.TaskInfo{State: asynq.TaskStateRetry, LastErr: "database down"}, "retrying (database down)"},
		{asynq.TaskInfo{State: asynq.TaskStateArchived, LastErr: "booking not found"}, "archived (booking not found)"},
		{asynq.TaskInfo{State: asynq.TaskStateCompleted}, "completed"},
	} {
		if got := TaskEnding(&tt.ti).String(); got != tt.want {
			t.Errorf("TaskEnding(%v) = %q, want %q", tt.ti.State, got, tt.want)
		}
	}
	if got := (Ending{}).String(); got != "-" {
		t.Errorf("no ending = %q, want -", got)
	}
}
