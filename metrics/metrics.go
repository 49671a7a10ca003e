// Package metrics defines the gateway's Prometheus metrics. One Metrics
// value is made per process (no package-level state) and handed to the
// receiver and the workers.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Outcomes of a webhook request, the values of the outcome label of
// gateway_webhooks_total.
const (
	OutcomeAccepted         = "accepted"
	OutcomeDuplicate        = "duplicate"
	OutcomeIgnored          = "ignored"
	OutcomeInvalidSignature = "invalid_signature"
	OutcomeBadRequest       = "bad_request"
	OutcomeTooLarge         = "too_large"
	OutcomeUnavailable      = "unavailable"
)

// Metrics holds every collector, registered on Registry.
type Metrics struct {
	Registry *prometheus.Registry

	Webhooks      *prometheus.CounterVec   // provider, outcome
	IngestSeconds *prometheus.HistogramVec // provider
	HTTPRequests  *prometheus.CounterVec   // method, route, code
	HTTPSeconds   *prometheus.HistogramVec // method, route
	Tasks         *prometheus.CounterVec   // type, outcome (processed, failed, retried, archived)
	TaskSeconds   *prometheus.HistogramVec // type
	Transitions   *prometheus.CounterVec   // kind
	Notifications *prometheus.CounterVec   // channel, outcome (sent, logged, failed, retried)
	ReplicaWaits  *prometheus.CounterVec   // outcome (confirmed, short)
	Reconciled    *prometheus.CounterVec   // source, outcome (see ReconcileOutcomes)
}

// Sources of gateway reconcile, the values of the source label of
// gateway_reconciled_total.
var ReconcileSources = []string{"stripe", "twilio", "holds"}

// Outcomes of gateway reconcile per item looked at, the values of the
// outcome label of gateway_reconciled_total: every item is checked; a
// missing one (the webhook never arrived, the hold was never cancelled)
// is then applied (its task queued), already_queued (its task is in Redis
// already) or an error; a dry run stops at missing.
const (
	ReconcileChecked       = "checked"
	ReconcileMissing       = "missing"
	ReconcileApplied       = "applied"
	ReconcileAlreadyQueued = "already_queued"
	ReconcileError         = "error"
)

// Outcomes of a wait for Redis replicas (REDIS_MIN_REPLICAS), the values of
// the outcome label of gateway_redis_replica_waits_total.
const (
	ReplicasConfirmed = "confirmed"
	ReplicasShort     = "short"
)

// New makes and registers the gateway's collectors, plus Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_webhooks_total",
			Help: "Webhook requests by provider (stripe, twilio) and outcome.",
		}, []string{"provider", "outcome"}),
		IngestSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_webhook_ingest_seconds",
			Help:    "Time from request to answer for webhook requests.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"provider"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_http_requests_total",
			Help: "HTTP requests by method, route and status code.",
		}, []string{"method", "route", "code"}),
		HTTPSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_http_request_seconds",
			Help:    "HTTP request latency by method and route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		Tasks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_tasks_total",
			Help: "Worker task runs by type and outcome (processed, failed, retried, archived).",
		}, []string{"type", "outcome"}),
		TaskSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_task_seconds",
			Help:    "Worker task run time by type.",
			Buckets: prometheus.DefBuckets,
		}, []string{"type"}),
		Transitions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_booking_transitions_total",
			Help: "Booking changes by kind (paid, confirmed, payment_pending, cancelled, refunded, sms_status, ...).",
		}, []string{"kind"}),
		Notifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_notifications_total",
			Help: "Messages by channel (email, sms) and outcome (sent, logged, failed, retried).",
		}, []string{"channel", "outcome"}),
		ReplicaWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_redis_replica_waits_total",
			Help: "Waits for REDIS_MIN_REPLICAS Redis replicas to confirm a webhook's task, by outcome (confirmed, short: answered 503).",
		}, []string{"outcome"}),
		Reconciled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_reconciled_total",
			Help: "Items gateway reconcile looked at, by source (stripe, twilio, holds) and outcome (checked, missing, applied, already_queued, error).",
		}, []string{"source", "outcome"}),
	}
	m.Registry.MustRegister(m.Webhooks, m.IngestSeconds, m.HTTPRequests, m.HTTPSeconds,
		m.Tasks, m.TaskSeconds, m.Transitions, m.Notifications, m.ReplicaWaits, m.Reconciled,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, p := range []string{"stripe", "twilio"} {
		for _, o := range []string{OutcomeAccepted, OutcomeDuplicate, OutcomeIgnored, OutcomeInvalidSignature,
			OutcomeBadRequest, OutcomeTooLarge, OutcomeUnavailable} {
			m.Webhooks.WithLabelValues(p, o)
		}
	}
	m.ReplicaWaits.WithLabelValues(ReplicasConfirmed)
	m.ReplicaWaits.WithLabelValues(ReplicasShort)
	for _, src := range ReconcileSources {
		for _, o := range []string{ReconcileChecked, ReconcileMissing, ReconcileApplied, ReconcileAlreadyQueued, ReconcileError} {
			m.Reconciled.WithLabelValues(src, o)
		}
	}
	return m
}

// ObserveReplicaWait counts one wait for Redis replicas.
func (m *Metrics) ObserveReplicaWait(confirmed bool) {
	if confirmed {
		m.ReplicaWaits.WithLabelValues(ReplicasConfirmed).Inc()
		return
	}
	m.ReplicaWaits.WithLabelValues(ReplicasShort).Inc()
}
