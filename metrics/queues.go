package metrics

import (
	"sort"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// QueueInspector is the part of asynq.Inspector the queue collector reads.
type QueueInspector interface {
	Queues() ([]string, error)
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
}

// Lease says whether this process holds the deployment-wide lease to
// export the queue-wide series (queue.Lease).
type Lease interface {
	Held() bool
}

// queueCollector reports Asynq's queue sizes and latency at scrape time.
// (Asynq's own exporter, github.com/hibiken/asynq/x/metrics, has not been
// released since 2021; this is the same idea in a few lines.)
//
// Every process reads the same Redis, so the queue-wide series are
// exported by the one process holding the lease only: summed over
// processes they are the queue's values, not a multiple of them. Every
// process exports gateway_queue_exporter, 1 on the one exporting.
type queueCollector struct {
	in                        QueueInspector
	lease                     Lease
	known                     map[string]bool
	tasks, latency, memory    *prometheus.Desc
	processed, failed, paused *prometheus.Desc
	up, exporter              *prometheus.Desc
}

// NewQueueCollector returns a collector of gateway_queue_* metrics read
// through in at every scrape while lease is held. The queue label is one of
// queues or "other", which sums up every other queue in Redis (a queue
// name is whatever a client enqueued to).
func NewQueueCollector(in QueueInspector, lease Lease, queues []string) prometheus.Collector {
	q := []string{"queue"}
	known := map[string]bool{}
	for _, name := range queues {
		known[name] = true
	}
	return &queueCollector{
		in:        in,
		lease:     lease,
		known:     known,
		tasks:     prometheus.NewDesc("gateway_queue_tasks", "Tasks in each queue by state.", []string{"queue", "state"}, nil),
		latency:   prometheus.NewDesc("gateway_queue_latency_seconds", "Age of the oldest pending task.", q, nil),
		memory:    prometheus.NewDesc("gateway_queue_memory_bytes", "Redis memory used by the queue (sampled).", q, nil),
		processed: prometheus.NewDesc("gateway_queue_processed_total", "Tasks processed (succeeded or failed) since the queue was created.", q, nil),
		failed:    prometheus.NewDesc("gateway_queue_failed_total", "Task runs that failed since the queue was created.", q, nil),
		paused:    prometheus.NewDesc("gateway_queue_paused", "1 when the queue is paused.", q, nil),
		up:        prometheus.NewDesc("gateway_queue_up", "1 when the exporting process could read the queue state from Redis.", nil, nil),
		exporter:  prometheus.NewDesc("gateway_queue_exporter", "1 on the one process exporting the queue-wide gateway_queue_* series, else 0.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tasks, c.latency, c.memory, c.processed, c.failed, c.paused, c.up, c.exporter} {
		ch <- d
	}
}

// queueTotals is what is reported for one queue label.
type queueTotals struct {
	tasks                     [6]float64 // by state, in the order of taskStates
	latency, memory           float64    // max, sum
	processed, failed, paused float64    // sum, sum, max
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	if !c.lease.Held() {
		ch <- prometheus.MustNewConstMetric(c.exporter, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.exporter, prometheus.GaugeValue, 1)
	qs, err := c.in.Queues()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	totals := map[string]*queueTotals{}
	for _, q := range qs {
		info, err := c.in.GetQueueInfo(q)
		if err != nil {
			continue
		}
		if !c.known[q] {
			q = Other
		}
		t := totals[q]
		if t == nil {
			t = &queueTotals{}
			totals[q] = t
		}
		t.add(info)
	}
	labels := make([]string, 0, len(totals))
	for q := range totals {
		labels = append(labels, q)
	}
	sort.Strings(labels)
	for _, q := range labels {
		c.emit(ch, q, totals[q])
	}
}

// taskStates are the values of the state label of gateway_queue_tasks.
func taskStates() [6]string {
	return [...]string{"pending", "active", "scheduled", "retry", "archived", "completed"}
}

func (t *queueTotals) add(info *asynq.QueueInfo) {
	for i, n := range [...]int{info.Pending, info.Active, info.Scheduled, info.Retry, info.Archived, info.Completed} {
		t.tasks[i] += float64(n)
	}
	t.latency = max(t.latency, info.Latency.Seconds())
	t.memory += float64(info.MemoryUsage)
	t.processed += float64(info.ProcessedTotal)
	t.failed += float64(info.FailedTotal)
	if info.Paused {
		t.paused = 1
	}
}

func (c *queueCollector) emit(ch chan<- prometheus.Metric, q string, t *queueTotals) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{q}, labels...)...)
	}
	for i, state := range taskStates() {
		gauge(c.tasks, t.tasks[i], state)
	}
	gauge(c.latency, t.latency)
	gauge(c.memory, t.memory)
	ch <- prometheus.MustNewConstMetric(c.processed, prometheus.CounterValue, t.processed, q)
	ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, t.failed, q)
	gauge(c.paused, t.paused)
}
