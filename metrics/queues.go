package metrics

import (
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
)

// QueueInspector is the part of asynq.Inspector the queue collector reads.
type QueueInspector interface {
	Queues() ([]string, error)
	GetQueueInfo(queue string) (*asynq.QueueInfo, error)
}

// queueCollector reports Asynq's queue sizes and latency at scrape time.
// (Asynq's own exporter, github.com/hibiken/asynq/x/metrics, has not been
// released since 2021; this is the same idea in a few lines.)
type queueCollector struct {
	in                        QueueInspector
	tasks, latency, memory    *prometheus.Desc
	processed, failed, paused *prometheus.Desc
	up                        *prometheus.Desc
}

// NewQueueCollector returns a collector of gateway_queue_* metrics read
// through in at every scrape.
func NewQueueCollector(in QueueInspector) prometheus.Collector {
	q := []string{"queue"}
	return &queueCollector{
		in:        in,
		tasks:     prometheus.NewDesc("gateway_queue_tasks", "Tasks in each queue by state.", []string{"queue", "state"}, nil),
		latency:   prometheus.NewDesc("gateway_queue_latency_seconds", "Age of the oldest pending task.", q, nil),
		memory:    prometheus.NewDesc("gateway_queue_memory_bytes", "Redis memory used by the queue (sampled).", q, nil),
		processed: prometheus.NewDesc("gateway_queue_processed_total", "Tasks processed (succeeded or failed) since the queue was created.", q, nil),
		failed:    prometheus.NewDesc("gateway_queue_failed_total", "Task runs that failed since the queue was created.", q, nil),
		paused:    prometheus.NewDesc("gateway_queue_paused", "1 when the queue is paused.", q, nil),
		up:        prometheus.NewDesc("gateway_queue_up", "1 when the queue state could be read from Redis.", nil, nil),
	}
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.tasks, c.latency, c.memory, c.processed, c.failed, c.paused, c.up} {
		ch <- d
	}
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	qs, err := c.in.Queues()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	for _, q := range qs {
		info, err := c.in.GetQueueInfo(q)
		if err != nil {
			continue
		}
		gauge := func(d *prometheus.Desc, v float64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, append([]string{q}, labels...)...)
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed} {
			gauge(c.tasks, float64(n), state)
		}
		gauge(c.latency, info.Latency.Seconds())
		gauge(c.memory, float64(info.MemoryUsage))
		ch <- prometheus.MustNewConstMetric(c.processed, prometheus.CounterValue, float64(info.ProcessedTotal), q)
		ch <- prometheus.MustNewConstMetric(c.failed, prometheus.CounterValue, float64(info.FailedTotal), q)
		paused := 0.0
		if info.Paused {
			paused = 1
		}
		gauge(c.paused, paused)
	}
}
