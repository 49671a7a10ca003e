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
