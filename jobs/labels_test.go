package jobs_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/tasks"
)

// TestTaskTypeLabelIsClosed: task types come from Redis, where anything
// can be enqueued; only the registered types are labels, the rest is
// "other", however many names are tried.
func TestTaskTypeLabelIsClosed(t *testing.T) {
	m := metrics.New()
	mux := jobs.NewMux(jobs.Deps{Metrics: m, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	tests := []struct{ name, typ, want string }{
		{"unknown type", "evil:x1", "other"},
		{"empty type", "", "other"},
		{"registered type as a prefix", tasks.TypePaymentSucceeded + "_x1", "other"},
		{"registered type", tasks.TypePaymentSucceeded, tasks.TypePaymentSucceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Every payload here is undecodable or unrouted: the run is archived.
			_ = mux.ProcessTask(context.Background(), asynq.NewTask(tt.typ, []byte("{")))
			if got := taskTypes(t, m); !contains(got, tt.want) {
				t.Errorf("type labels %v lack %q", got, tt.want)
			}
		})
	}
	before := taskTypes(t, m)
	for i := 0; i < 200; i++ {
		_ = mux.ProcessTask(context.Background(), asynq.NewTask(fmt.Sprintf("evil:%d", i), nil))
		_ = mux.ProcessTask(context.Background(), asynq.NewTask(fmt.Sprintf("%s:%d", tasks.TypeSMSStatus, i), nil))
	}
	if diff := cmp.Diff(before, taskTypes(t, m)); diff != "" {
		t.Errorf("type labels grew (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"other", tasks.TypePaymentSucceeded}, before); diff != "" {
		t.Errorf("type labels (-want +got):\n%s", diff)
	}
}

// taskTypes lists the type labels of gateway_tasks_total and
// gateway_task_seconds, sorted and deduplicated.
func taskTypes(t *testing.T, m *metrics.Metrics) []string {
	t.Helper()
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		if mf.GetName() != "gateway_tasks_total" && mf.GetName() != "gateway_task_seconds" {
			continue
		}
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "type" {
					seen[l.GetValue()] = true
				}
			}
		}
	}
	var out []string
	for v := range seen {
		out = append(out, v)
	}
	sort.Strings(out)
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
