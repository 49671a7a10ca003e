package metrics_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/reserveeasy/gateway/metrics"
)

func TestWebhookOutcomesStartAtZero(t *testing.T) {
	m := metrics.New()
	want := `
# HELP gateway_webhooks_total Webhook requests by provider (stripe, twilio) and outcome.
# TYPE gateway_webhooks_total counter
`
	var rows []string
	for _, p := range []string{"stripe", "twilio"} {
		for _, o := range []string{"accepted", "bad_request", "duplicate", "ignored", "invalid_signature", "too_large", "unavailable"} {
			rows = append(rows, `gateway_webhooks_total{outcome="`+o+`",provider="`+p+`"} 0`)
		}
	}
	if err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want+strings.Join(rows, "\n")+"\n"), "gateway_webhooks_total"); err != nil {
		t.Error(err)
	}
}

type fakeInspector struct {
	queues []string
	err    error
}

func (f fakeInspector) Queues() ([]string, error) { return f.queues, f.err }

func (f fakeInspector) GetQueueInfo(q string) (*asynq.QueueInfo, error) {
	return &asynq.QueueInfo{Queue: q, Pending: 3, Archived: 1, Latency: time.Duration(len(q)) * time.Second,
		ProcessedTotal: 10, FailedTotal: 2, Paused: q == "stray-b"}, nil
}

// held is a lease that is held or not.
type held bool

func (h held) Held() bool { return bool(h) }

func TestQueueCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewQueueCollector(fakeInspector{queues: []string{"webhooks"}}, held(true), []string{"webhooks", "holds"}))
	want := `
# HELP gateway_queue_latency_seconds Age of the oldest pending task.
# TYPE gateway_queue_latency_seconds gauge
gateway_queue_latency_seconds{queue="webhooks"} 8
# HELP gateway_queue_up 1 when the exporting process could read the queue state from Redis.
# TYPE gateway_queue_up gauge
gateway_queue_up 1
# HELP gateway_queue_exporter 1 on the one process exporting the queue-wide gateway_queue_* series, else 0.
# TYPE gateway_queue_exporter gauge
gateway_queue_exporter 1
# HELP gateway_queue_failed_total Task runs that failed since the queue was created.
# TYPE gateway_queue_failed_total counter
gateway_queue_failed_total{queue="webhooks"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gateway_queue_latency_seconds", "gateway_queue_up",
		"gateway_queue_exporter", "gateway_queue_failed_total"); err != nil {
		t.Error(err)
	}
	if got := testutil.ToFloat64(gaugeOf(t, reg, "gateway_queue_tasks", "pending")); got != 3 {
		t.Errorf("pending = %v, want 3", got)
	}

	down := prometheus.NewRegistry()
	down.MustRegister(metrics.NewQueueCollector(fakeInspector{err: errors.New("connection refused")}, held(true), nil))
	if err := testutil.GatherAndCompare(down, strings.NewReader("# HELP gateway_queue_up 1 when the exporting process could read the queue state from Redis.\n# TYPE gateway_queue_up gauge\ngateway_queue_up 0\n"), "gateway_queue_up"); err != nil {
		t.Error(err)
	}
}

// TestQueueCollectorOnlyWithLease: a process without the lease exports
// gateway_queue_exporter 0 and no queue-wide series.
func TestQueueCollectorOnlyWithLease(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewQueueCollector(fakeInspector{queues: []string{"webhooks"}}, held(false), []string{"webhooks"}))
	want := `
# HELP gateway_queue_exporter 1 on the one process exporting the queue-wide gateway_queue_* series, else 0.
# TYPE gateway_queue_exporter gauge
gateway_queue_exporter 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

// TestUnknownQueuesAreOther: queues the gateway does not use, whatever
// their names, add up under queue="other".
func TestUnknownQueuesAreOther(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(metrics.NewQueueCollector(fakeInspector{queues: []string{"webhooks", "stray-a", "stray-b"}}, held(true), []string{"webhooks", "holds"}))
	want := `
# HELP gateway_queue_tasks Tasks in each queue by state.
# TYPE gateway_queue_tasks gauge
gateway_queue_tasks{queue="other",state="active"} 0
gateway_queue_tasks{queue="other",state="archived"} 2
gateway_queue_tasks{queue="other",state="completed"} 0
gateway_queue_tasks{queue="other",state="pending"} 6
gateway_queue_tasks{queue="other",state="retry"} 0
gateway_queue_tasks{queue="other",state="scheduled"} 0
gateway_queue_tasks{queue="webhooks",state="active"} 0
gateway_queue_tasks{queue="webhooks",state="archived"} 1
gateway_queue_tasks{queue="webhooks",state="completed"} 0
gateway_queue_tasks{queue="webhooks",state="pending"} 3
gateway_queue_tasks{queue="webhooks",state="retry"} 0
gateway_queue_tasks{queue="webhooks",state="scheduled"} 0
# HELP gateway_queue_latency_seconds Age of the oldest pending task.
# TYPE gateway_queue_latency_seconds gauge
gateway_queue_latency_seconds{queue="other"} 7
gateway_queue_latency_seconds{queue="webhooks"} 8
# HELP gateway_queue_processed_total Tasks processed (succeeded or failed) since the queue was created.
# TYPE gateway_queue_processed_total counter
gateway_queue_processed_total{queue="other"} 20
gateway_queue_processed_total{queue="webhooks"} 10
# HELP gateway_queue_paused 1 when the queue is paused.
# TYPE gateway_queue_paused gauge
gateway_queue_paused{queue="other"} 1
gateway_queue_paused{queue="webhooks"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "gateway_queue_tasks", "gateway_queue_latency_seconds",
		"gateway_queue_processed_total", "gateway_queue_paused"); err != nil {
		t.Error(err)
	}
}

// gaugeOf finds one sample of a gathered gauge family by its state label.
func gaugeOf(t *testing.T, reg *prometheus.Registry, name, state string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" && l.GetValue() == state {
					g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x"})
					g.Set(m.GetGauge().GetValue())
					return g
				}
			}
		}
	}
	t.Fatalf("no %s{state=%q}", name, state)
	return nil
}
