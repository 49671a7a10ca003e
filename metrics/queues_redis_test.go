package metrics_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/queue/redistest"
)

// process is one gateway process's queue collector and its lease.
type process struct {
	lease *queue.Lease
	reg   *prometheus.Registry
}

func newProcess(t *testing.T, r *queue.Redis, lease string, ttl time.Duration) process {
	t.Helper()
	in := asynq.NewInspector(r.ConnOpt)
	t.Cleanup(func() { in.Close() })
	p := process{lease: queue.NewLease(r, lease, ttl), reg: prometheus.NewRegistry()}
	p.reg.MustRegister(metrics.NewQueueCollector(in, p.lease, []string{"webhooks", "holds"}))
	return p
}

func (p process) try(t *testing.T) bool {
	t.Helper()
	ok, err := p.lease.Try(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// summed adds up the gateway_queue_tasks and gateway_queue_exporter
// samples of every process, as sum without (instance) would.
func summed(t *testing.T, ps ...process) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, p := range ps {
		mfs, err := p.reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "gateway_queue_tasks" && mf.GetName() != "gateway_queue_exporter" {
				continue
			}
			for _, m := range mf.GetMetric() {
				var ls []string
				for _, l := range m.GetLabel() {
					ls = append(ls, l.GetName()+"="+l.GetValue())
				}
				sort.Strings(ls)
				out[mf.GetName()+"{"+strings.Join(ls, ",")+"}"] += m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// TestQueueSeriesSumOverProcesses: two processes on one Redis; summed
// over both, the queue gauges are the queue's real sizes (not twice them),
// exactly one process is the exporter, and when its lease lapses the other
// takes over.
func TestQueueSeriesSumOverProcesses(t *testing.T) {
	r := redistest.Open(t, redistest.DBMetrics)
	client := asynq.NewClient(r.ConnOpt)
	defer client.Close()
	enqueue := func(q string, n int, opts ...asynq.Option) {
		for i := 0; i < n; i++ {
			if _, err := client.Enqueue(asynq.NewTask("test:task", []byte(fmt.Sprint(i))), append(opts, asynq.Queue(q))...); err != nil {
				t.Fatal(err)
			}
		}
	}
	enqueue("webhooks", 3)
	enqueue("holds", 2, asynq.ProcessIn(time.Hour))
	enqueue("stray-1", 1)
	enqueue("stray-2", 1)
	want := map[string]float64{"gateway_queue_exporter{}": 1}
	for _, q := range []string{"webhooks", "holds", "other"} {
		for _, s := range []string{"pending", "active", "scheduled", "retry", "archived", "completed"} {
			want["gateway_queue_tasks{queue="+q+",state="+s+"}"] = 0
		}
	}
	want["gateway_queue_tasks{queue=webhooks,state=pending}"] = 3
	want["gateway_queue_tasks{queue=holds,state=scheduled}"] = 2
	want["gateway_queue_tasks{queue=other,state=pending}"] = 2

	a, b := newProcess(t, r, "queue-metrics", time.Minute), newProcess(t, r, "queue-metrics", time.Minute)
	if !a.try(t) || b.try(t) {
		t.Fatal("not exactly one of two processes took the lease")
	}
	if diff := cmp.Diff(want, summed(t, a, b)); diff != "" {
		t.Errorf("summed over both processes (-want +got):\n%s", diff)
	}
	if got := summed(t, b); len(got) != 1 || got["gateway_queue_exporter{}"] != 0 {
		t.Errorf("the process without the lease exports %v, want only gateway_queue_exporter 0", got)
	}

	// c holds a lease it stops renewing (it crashed); d takes over.
	c, d := newProcess(t, r, "lapsing", time.Second), newProcess(t, r, "lapsing", time.Minute)
	if !c.try(t) {
		t.Fatal("c did not take the free lease")
	}
	deadline := time.Now().Add(15 * time.Second)
	for !d.try(t) {
		if time.Now().After(deadline) {
			t.Fatal("d never took over the lapsed lease")
		}
		time.Sleep(20 * time.Millisecond) // poll interval
	}
	if c.try(t) {
		t.Fatal("c took the lease back from d")
	}
	if diff := cmp.Diff(want, summed(t, c, d)); diff != "" {
		t.Errorf("summed after the takeover (-want +got):\n%s", diff)
	}
	if got := summed(t, d)["gateway_queue_exporter{}"]; got != 1 {
		t.Errorf("d: gateway_queue_exporter = %v, want 1", got)
	}
}
