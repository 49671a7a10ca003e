//go:build faults

package faults

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/reserveeasy/gateway/loadgen"
	"github.com/reserveeasy/gateway/queue/redistest"
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
	parallelInShort(t)
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

// parallelInShort runs the CI variant's cases at once: each has its own
// Redis, gateways and bookings, and most of their time is waiting for
// Asynq to recover killed tasks. The full run keeps them one at a time
// (b stops the PostgreSQL they share).
func parallelInShort(t *testing.T) {
	if short() {
		t.Parallel()
	}
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
	parallelInShort(t)
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
	parallelInShort(t)
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

// stripeJSON is a Stripe event of typ about object.
func stripeJSON(id, typ, object string) []byte {
	return []byte(fmt.Sprintf(`{"id":%q,"object":"event","api_version":"2023-10-16","created":%d,"livemode":false,`+
		`"pending_webhooks":1,"request":{"id":null,"idempotency_key":null},"type":%q,"data":{"object":%s}}`,
		id, time.Now().Unix(), typ, object))
}

// g. An order storm: per booking a payment_failed, a payment_succeeded, a
// partial and a full charge.refunded, all shuffled and each sent twice;
// then the confirmation SMS's statuses (queued, sent, delivered, each
// twice with a fresh idempotency token), shuffled. Every booking ends paid,
// confirmed, refunded in full with one payment and refunds summing to the
// deposit, SMS delivered.
func TestG_OrderStorm(t *testing.T) {
	skipInShort(t)
	n := max(events()/4, 10)
	r := newRig(t, "g. order storm (Stripe + Twilio, shuffled)")
	ids := r.pg.bookings(t, n)
	api := r.gateway("api", nil, "api")
	r.gateway("worker", map[string]string{"WORKER_CONCURRENCY": "50"}, "worker")
	tag := randHex(4)
	var evs []loadgen.Event
	for _, id := range ids {
		k := fmt.Sprintf("g%s_%d", tag, id)
		pi, ch := "pi_"+k, "ch_"+k
		meta := fmt.Sprintf(`{"booking_id":"%d"}`, id)
		evs = append(evs,
			loadgen.Event{Key: "evt_f" + k, ContentType: "application/json", Body: stripeJSON("evt_f"+k, "payment_intent.payment_failed",
				fmt.Sprintf(`{"id":%q,"object":"payment_intent","amount":6000,"amount_received":0,"currency":"usd","status":"requires_payment_method","latest_charge":%q,"last_payment_error":{"code":"card_declined","message":"Your card was declined."},"metadata":%s}`, pi, ch, meta))},
			loadgen.Event{Key: "evt_s" + k, ContentType: "application/json", Body: stripeJSON("evt_s"+k, "payment_intent.succeeded",
				fmt.Sprintf(`{"id":%q,"object":"payment_intent","amount":6000,"amount_received":6000,"currency":"usd","status":"succeeded","latest_charge":%q,"metadata":%s}`, pi, ch, meta))},
			loadgen.Event{Key: "evt_p" + k, ContentType: "application/json", Body: stripeJSON("evt_p"+k, "charge.refunded",
				fmt.Sprintf(`{"id":%q,"object":"charge","amount":6000,"amount_refunded":2000,"refunded":false,"currency":"usd","payment_intent":%q,"metadata":%s}`, ch, pi, meta))},
			loadgen.Event{Key: "evt_r" + k, ContentType: "application/json", Body: stripeJSON("evt_r"+k, "charge.refunded",
				fmt.Sprintf(`{"id":%q,"object":"charge","amount":6000,"amount_refunded":6000,"refunded":true,"currency":"usd","payment_intent":%q,"metadata":%s}`, ch, pi, meta))},
		)
	}
	jobs := r.stripeJobs(evs, 2, 1)
	mrand.Shuffle(len(jobs), func(i, j int) { jobs[i], jobs[j] = jobs[j], jobs[i] })
	s := newSender(api.URL)
	s.run(jobs)
	r.drain(drainTimeout)

	// The statuses of each booking's confirmation SMS, as Twilio calls back.
	phones := map[string]bool{}
	rs, err := r.pg.db.Query(`SELECT customer_phone FROM bookings WHERE id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	for rs.Next() {
		var p string
		_ = rs.Scan(&p)
		phones[p] = true
	}
	rs.Close()
	var tw []job
	var cbs []loadgen.Event
	for _, m := range r.sinks.SMS() {
		if !phones[m.To] {
			continue
		}
		for _, st := range []string{"queued", "sent", "delivered"} {
			for c := 0; c < 2; c++ {
				p := url.Values{"AccountSid": {m.Account}, "ApiVersion": {"2010-04-01"}, "From": {m.From}, "To": {m.To},
					"MessageSid": {m.SID}, "SmsSid": {m.SID}, "MessageStatus": {st}, "SmsStatus": {st}}
				cbs = append(cbs, loadgen.TwilioCallback(p, "tw_"+randHex(8)))
				tw = append(tw, job{signer: r.twilio, path: twilioPath, id: m.SID + ":" + st})
			}
		}
	}
	for i := range tw {
		tw[i].ev = &cbs[i]
	}
	mrand.Shuffle(len(tw), func(i, j int) { tw[i], tw[j] = tw[j], tw[i] })
	s.run(tw)
	r.drain(drainTimeout)

	res := r.check(s, ids)
	var wrong int
	if err := r.pg.db.QueryRow(`SELECT count(*) FROM bookings b WHERE id = ANY($1) AND NOT (
		b.status = 'confirmed' AND b.deposit_paid AND b.deposit_refunded AND b.refunded_at IS NOT NULL
		AND b.sms_status = 'delivered' AND b.sms_delivered
		AND (SELECT count(*) FROM transactions t WHERE t.booking_id = b.id AND t.kind = 'payment') = 1
		AND (SELECT coalesce(sum(amount), 0) FROM transactions t WHERE t.booking_id = b.id AND t.kind = 'refund') = 6000)`,
		ids).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong > 0 {
		var b, st, sms string
		var paid, refunded bool
		_ = r.pg.db.QueryRow(`SELECT id::text, status, coalesce(sms_status, ''), deposit_paid, deposit_refunded FROM bookings WHERE id = ANY($1)
			AND NOT (status = 'confirmed' AND deposit_paid AND deposit_refunded AND sms_status = 'delivered') LIMIT 1`, ids).Scan(&b, &st, &sms, &paid, &refunded)
		t.Errorf("%d of %d bookings not in the final state; e.g. booking %s: status %s, sms %q, paid %v, refunded %v", wrong, n, b, st, sms, paid, refunded)
	}
	t.Logf("final booking states: %d of %d wrong", wrong, n)
	r.report(res)
}

// sentinels starts three Sentinels watching primary (master name
// gwmaster, down after 2s) and returns the gateway's REDIS_URL.
func sentinels(t *testing.T, primary *redistest.Server) (string, asynq.RedisConnOpt) {
	t.Helper()
	var addrs []string
	for i := 0; i < 3; i++ {
		dir := t.TempDir()
		port := freePort(t)
		conf := filepath.Join(dir, "sentinel.conf")
		if err := os.WriteFile(conf, []byte(fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\n"+
			"sentinel monitor gwmaster 127.0.0.1 %d 2\nsentinel down-after-milliseconds gwmaster 2000\n"+
			"sentinel failover-timeout gwmaster 10000\nsentinel parallel-syncs gwmaster 1\n", port, dir, primary.Port)), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("redis-server", conf, "--sentinel")
		if err := cmd.Start(); err != nil {
			t.Fatalf("start sentinel: %v", err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port))
	}
	for _, a := range addrs {
		c := redis.NewSentinelClient(&redis.Options{Addr: a})
		poll(t, 30*time.Second, "sentinel "+a+" to see the replica and the other sentinels", func() bool {
			m, err := c.Master(context.Background(), "gwmaster").Result()
			return err == nil && m["num-slaves"] == "1" && m["num-other-sentinels"] == "2"
		})
		c.Close()
	}
	return "redis-sentinel://" + strings.Join(addrs, ",") + "?master_name=gwmaster&db=0",
		asynq.RedisFailoverClientOpt{MasterName: "gwmaster", SentinelAddrs: addrs}
}

// d. A Sentinel failover under load: the primary (AOF always) SIGKILLed
// mid-burst, the replica promoted, the old primary started again from its
// AOF (the Sentinels make it a replica); with and without
// REDIS_MIN_REPLICAS=1.
func TestD_SentinelFailover(t *testing.T) {
	skipInShort(t)
	for _, minReplicas := range []string{"0", "1"} {
		t.Run("REDIS_MIN_REPLICAS="+minReplicas, func(t *testing.T) {
			n := events()
			r := newRig(t, "d. Sentinel failover, REDIS_MIN_REPLICAS="+minReplicas)
			replica := redistest.StartReplica(t, r.redis, "--appendonly", "yes", "--appendfsync", "always")
			r.redisURL, r.inspect = sentinels(t, r.redis)
			r.env["REDIS_URL"] = r.redisURL
			r.env["REDIS_MIN_REPLICAS"] = minReplicas
			ids, evs := r.stripeEvents(n)
			api := r.gateway("api", nil, "api")
			r.gateway("worker", map[string]string{"WORKER_CONCURRENCY": "50"}, "worker")
			s := newSender(api.URL)
			wait := async(s, r.stripeJobs(evs, 1, 1))
			waitOKs(t, s, int64(n/3), "a third of the events answered before the failover")
			killed := time.Now()
			r.redis.Kill()
			rc := redis.NewClient(&redis.Options{Addr: fmt.Sprintf("127.0.0.1:%d", replica.Port)})
			defer rc.Close()
			poll(t, time.Minute, "the replica to be promoted", func() bool {
				info, err := rc.Info(context.Background(), "replication").Result()
				return err == nil && strings.Contains(info, "role:master")
			})
			promoted := time.Now()
			r.redis.Restart(t)
			restarted := time.Now()
			wait()
			r.drain(drainTimeout)
			res := r.check(s, ids)
			never := time.Now()
			t.Logf("lost events by when they were answered 200: before the kill %d, kill to promotion %d, promotion to the old primary's restart %d, after %d",
				res.lostBetween(time.Time{}, killed), res.lostBetween(killed, promoted), res.lostBetween(promoted, restarted), res.lostBetween(restarted, never))
			if minReplicas == "0" {
				r.report(res, "lost", "doubled email (same Message-ID)")
			} else {
				r.report(res, "doubled email (same Message-ID)")
			}
		})
	}
}
