//go:build faults

package faults

import (
	"testing"
	"time"
)

// drainTimeout bounds the wait for the queue to drain after a fault: a
// killed worker's tasks wait out Asynq's lease (about 30s) and recoverer,
// then their retry delay; a claim left by a dead worker, its minute.
const drainTimeout = 6 * time.Minute

// waitFor polls until the doubles took n messages (or the sender is done).
func (r *rig) waitMessages(n int, what string) {
	r.t.Helper()
	poll(r.t, 3*time.Minute, what, func() bool {
		sms, email := r.sinks.Counts()
		return sms+email >= n
	})
}

// a. `gateway worker` SIGKILLed mid-delivery (WORKER_CONCURRENCY=50) and
// started again at once.
func TestA_WorkerKill(t *testing.T) {
	n := events()
	r := newRig(t, "a. worker SIGKILL mid-delivery")
	ids, evs := r.stripeEvents(n)
	api := r.gateway("api", nil, "api")
	worker := r.gateway("worker", map[string]string{"WORKER_CONCURRENCY": "50"}, "worker")
	s := newSender(api.URL)
	wait := async(s, r.stripeJobs(evs, 1, 1))
	r.waitMessages(n/3, "a third of the messages before the kill")
	worker.Kill(t)
	worker.Restart(t)
	wait()
	r.drain(drainTimeout)
	r.report(r.check(s, ids), "doubled email (same Message-ID)")
}

func skipInShort(t *testing.T) {
	if short() {
		t.Skip("not in the FAULTS_SHORT variant")
	}
}

// waitOKs polls until the sender got n 2xx answers.
func waitOKs(t *testing.T, s *sender, n int64, what string) {
	t.Helper()
	poll(t, 3*time.Minute, what, func() bool { return s.oks.Load() >= n })
}

// b. PostgreSQL stopped 30s under load (pg_ctl stop -m fast, then start).
func TestB_PostgresOutage(t *testing.T) {
	skipInShort(t)
	n := events()
	r := newRig(t, "b. PostgreSQL stopped 30 s under load")
	ids, evs := r.stripeEvents(n)
	api := r.gateway("api", nil, "api")
	r.gateway("worker", map[string]string{"WORKER_CONCURRENCY": "50"}, "worker")
	s := newSender(api.URL)
	wait := async(s, r.stripeJobs(evs, 1, 1))
	r.waitMessages(n/4, "a quarter of the messages before the outage")
	r.pg.Stop(t)
	time.Sleep(time.Duration(envInt("FAULTS_PG_OUTAGE_SECONDS", 30)) * time.Second) // the outage itself
	r.pg.Start(t)
	wait()
	r.drain(drainTimeout)
	r.report(r.check(s, ids), "doubled email (same Message-ID)")
}

// c. Redis (AOF, appendfsync always) SIGKILLed mid-burst and started
// again from its AOF.
func TestC_RedisKill(t *testing.T) {
	n := events()
	r := newRig(t, "c. Redis SIGKILL mid-burst (AOF always)")
	ids, evs := r.stripeEvents(n)
	api := r.gateway("api", nil, "api")
	r.gateway("worker", map[string]string{"WORKER_CONCURRENCY": "50"}, "worker")
	s := newSender(api.URL)
	wait := async(s, r.stripeJobs(evs, 1, 1))
	waitOKs(t, s, int64(n/3), "a third of the events answered before the kill")
	r.redis.Kill()
	time.Sleep(time.Second) // down for a second: the senders see errors
	r.redis.Restart(t)
	wait()
	r.drain(drainTimeout)
	r.report(r.check(s, ids), "doubled email (same Message-ID)")
}

// f. A duplicate storm: every event sent FAULTS_COPIES (3) times to each
// of two api processes at once.
func TestF_DuplicateStorm(t *testing.T) {
	n := events()
	r := newRig(t, "f. duplicate storm, 2 api x 3 copies")
	ids, evs := r.stripeEvents(n)
	api1 := r.gateway("api1", nil, "api")
	api2 := r.gateway("api2", nil, "api")
	r.gateway("worker", map[string]string{"WORKER_CONCURRENCY": "50"}, "worker")
	s := newSender(api1.URL, api2.URL)
	s.conc = 32
	s.run(r.stripeJobs(evs, envInt("FAULTS_COPIES", 3), 2))
	r.drain(drainTimeout)
	r.report(r.check(s, ids))
}

// e. SIGTERM to one of two api processes under load; the sender fails
// over to the other.
func TestE_APITerm(t *testing.T) {
	skipInShort(t)
	n := events()
	r := newRig(t, "e. SIGTERM to 1 of 2 api processes")
	ids, evs := r.stripeEvents(n)
	api1 := r.gateway("api1", nil, "api")
	api2 := r.gateway("api2", nil, "api")
	r.gateway("worker", map[string]string{"WORKER_CONCURRENCY": "50"}, "worker")
	s := newSender(api1.URL, api2.URL)
	wait := async(s, r.stripeJobs(evs, 1, 2))
	waitOKs(t, s, int64(n/3), "a third of the events answered before the SIGTERM")
	api1.Term(t)
	wait()
	r.drain(drainTimeout)
	r.report(r.check(s, ids))
}
