//go:build faults

package faults

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/loadgen"
	"github.com/reserveeasy/gateway/loadgen/sinks"
	"github.com/reserveeasy/gateway/queue/redistest"
)

const (
	stripePath = "/api/v1/webhooks/stripe/payment-events"
	twilioPath = "/api/v1/webhooks/twilio/sms-status"
	publicBase = "http://gateway.faults.test"
)

// rig is one case's world: the shared PostgreSQL, a Redis of its own,
// the provider doubles and the settings every gateway process gets.
type rig struct {
	t        *testing.T
	name     string
	started  time.Time
	pg       *postgres
	redis    *redistest.Server
	redisURL string
	inspect  asynq.RedisConnOpt // for drain; nil: from redisURL
	sinks    *sinks.Sinks
	env      map[string]string
	stripe   loadgen.Signer
	twilio   loadgen.Signer
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = crand.Read(b)
	return hex.EncodeToString(b)
}

// newRig starts a Redis with AOF (appendfsync always), the doubles
// (Twilio 250ms, SMTP 150ms) and returns the rig.
func newRig(t *testing.T, name string) *rig {
	t.Helper()
	r := &rig{t: t, name: name, started: time.Now(), pg: sharedPG(t)}
	r.redis = redistest.StartServer(t, "--appendonly", "yes", "--appendfsync", "always")
	r.redisURL = r.redis.URL()
	r.sinks = sinks.New(sinks.Config{TwilioLatency: 250 * time.Millisecond, SMTPLatency: 150 * time.Millisecond})
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: r.sinks.Twilio(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(tl) }()
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ss := smtp.NewServer(r.sinks.SMTP())
	ss.Domain, ss.AllowInsecureAuth = "localhost", true
	ss.ErrorLog = nopLogger{}
	go func() { _ = ss.Serve(sl) }()
	t.Cleanup(func() { r.sinks.Close(); hs.Close(); ss.Close() })
	secret, token := "whsec_faults_"+randHex(16), randHex(16)
	r.env = map[string]string{
		"REDIS_URL": r.redisURL, "DATABASE_URL": r.pg.URL, "MIGRATE": "false",
		"STRIPE_WEBHOOK_SECRET": secret, "TWILIO_AUTH_TOKEN": token,
		"TWILIO_ACCOUNT_SID": "AC" + randHex(16), "TWILIO_FROM_NUMBER": "+15005550006",
		"TWILIO_API_BASE_URL": "http://" + tl.Addr().String(), "SMTP_URL": "smtp://" + sl.Addr().String(),
		"SUPPORT_EMAIL": "support@example.com", "PUBLIC_BASE_URL": publicBase,
		"LOG_LEVEL": "warn", "SHUTDOWN_TIMEOUT": "25s",
	}
	r.stripe = loadgen.Signer{Provider: loadgen.Stripe, StripeSecret: secret}
	r.twilio = loadgen.Signer{Provider: loadgen.Twilio, TwilioToken: token, URL: publicBase + twilioPath}
	return r
}

type nopLogger struct{}

func (nopLogger) Printf(string, ...any) {}
func (nopLogger) Println(...any)        {}

// gateway starts `gateway ARGS` with the rig's settings plus extra.
func (r *rig) gateway(name string, extra map[string]string, args ...string) *proc {
	env := map[string]string{}
	for k, v := range r.env {
		env[k] = v
	}
	for k, v := range extra {
		env[k] = v
	}
	return startGateway(r.t, name, env, args...)
}

// stripeEvents creates n bookings and one Stripe event about each: half
// payment_intent.succeeded (an SMS), half payment_failed (an email).
func (r *rig) stripeEvents(n int) ([]int64, []loadgen.Event) {
	ids := r.pg.bookings(r.t, n)
	evs := loadgen.Generate(loadgen.Mix{Provider: loadgen.Stripe, Failed: 0.5, BookingIDs: ids,
		Seed: rand.Uint64(), Prefix: r.name + "_" + randHex(4)}, n, 0)
	return ids, evs
}

// job is one delivery of an event by the sender: first to targets[first].
type job struct {
	ev     *loadgen.Event
	signer loadgen.Signer
	path   string
	first  int
	id     string // the webhook_events event_id (default: ev.Key)
}

func (j job) key() string {
	if j.id != "" {
		return j.id
	}
	return j.ev.Key
}

// sender posts events like Stripe and Twilio do: any non-2xx answer or
// timeout is retried with exponential backoff (200ms doubling to 5s, with
// jitter), each retry to the next target, until the deadline.
type sender struct {
	targets  []string
	conc     int
	deadline time.Duration

	mu       sync.Mutex
	ok       map[string]bool      // event key -> answered 2xx at least once
	okAt     map[string]time.Time // event key -> its first 2xx
	keys     map[string]bool
	requests atomic.Int64
	non2xx   atomic.Int64
	oks      atomic.Int64
}

func newSender(targets ...string) *sender {
	return &sender{targets: targets, conc: 16, deadline: 5 * time.Minute, ok: map[string]bool{}, okAt: map[string]time.Time{}, keys: map[string]bool{}}
}

// run sends every job and returns when each got a 2xx or the deadline passed.
func (s *sender) run(jobs []job) {
	ctx, cancel := context.WithTimeout(context.Background(), s.deadline)
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: s.conc}}
	ch := make(chan job)
	var wg sync.WaitGroup
	for range s.conc {
		wg.Go(func() {
			for j := range ch {
				s.deliver(ctx, client, j)
			}
		})
	}
	for _, j := range jobs {
		s.mu.Lock()
		s.keys[j.key()] = true
		s.mu.Unlock()
		ch <- j
	}
	close(ch)
	wg.Wait()
}

func (s *sender) deliver(ctx context.Context, client *http.Client, j job) {
	backoff := 200 * time.Millisecond
	for attempt := 0; ctx.Err() == nil; attempt++ {
		url := s.targets[(j.first+attempt)%len(s.targets)] + j.path
		s.requests.Add(1)
		if code := post(ctx, client, url, j); code >= 200 && code < 300 {
			s.oks.Add(1)
			s.mu.Lock()
			if !s.ok[j.key()] {
				s.okAt[j.key()] = time.Now()
			}
			s.ok[j.key()] = true
			s.mu.Unlock()
			return
		}
		s.non2xx.Add(1)
		d := backoff/2 + rand.N(backoff/2+1)
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func post(ctx context.Context, client *http.Client, url string, j job) int {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(j.ev.Body))
	if err != nil {
		return 0
	}
	req.Header.Set("Content-Type", j.ev.ContentType)
	for k, v := range j.ev.Header {
		req.Header[k] = v
	}
	name, sig := j.signer.Sign(j.ev, time.Now())
	req.Header.Set(name, sig)
	resp, err := client.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// stripeJobs is one job per event (copies times, to each target).
func (r *rig) stripeJobs(evs []loadgen.Event, copies, targets int) []job {
	var jobs []job
	for i := range evs {
		for c := 0; c < copies; c++ {
			for k := 0; k < targets; k++ {
				jobs = append(jobs, job{ev: &evs[i], signer: r.stripe, path: stripePath, first: (i + k) % targets})
			}
		}
	}
	return jobs
}

// async runs s over jobs in the background; wait returns when it is done.
func async(s *sender, jobs []job) (wait func()) {
	done := make(chan struct{})
	go func() { s.run(jobs); close(done) }()
	return func() { <-done }
}

// drain waits until the webhooks queue holds nothing pending, active,
// scheduled or retrying (a killed worker's tasks stay active until Asynq
// recovers them), seen three times in a row.
func (r *rig) drain(d time.Duration) {
	r.t.Helper()
	opt := r.inspect
	if opt == nil {
		var err error
		if opt, err = asynq.ParseRedisURI(r.redisURL); err != nil {
			r.t.Fatal(err)
		}
	}
	in := asynq.NewInspector(opt)
	defer in.Close()
	calm := 0
	poll(r.t, d, "the webhooks queue to drain", func() bool {
		q, err := in.GetQueueInfo("webhooks")
		if err == nil && q.Pending+q.Active+q.Scheduled+q.Retry == 0 {
			calm++
		} else {
			calm = 0
		}
		return calm >= 3
	})
}

// result is what a case measured.
type result struct {
	sent, ok, applied, lost, doubledRows int
	smsDoubled, emailDistinct, emailSame int
	notSent                              int // notifications not sent in the end (any status but sent)
	requests, non2xx                     int64
	lostAt                               []time.Time // when each lost event was answered 2xx
}

// lostBetween counts the lost events answered 2xx in [from, to).
func (res result) lostBetween(from, to time.Time) int {
	n := 0
	for _, t := range res.lostAt {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// check counts what the events did: webhook_events rows, rows doubled,
// messages the doubles received more than once per notification.
func (r *rig) check(s *sender, ids []int64) result {
	r.t.Helper()
	db := r.pg.db
	var res result
	s.mu.Lock()
	var keys []string
	for k := range s.keys {
		keys = append(keys, k)
	}
	res.sent = len(keys)
	ok := map[string]bool{}
	for k, v := range s.ok {
		ok[k] = v
	}
	s.mu.Unlock()
	res.ok = len(ok)
	res.requests, res.non2xx = s.requests.Load(), s.non2xx.Load()
	applied := map[string]bool{}
	rs, err := db.Query(`SELECT event_id FROM webhook_events WHERE event_id = ANY($1)`, keys)
	if err != nil {
		r.t.Fatal(err)
	}
	for rs.Next() {
		var k string
		_ = rs.Scan(&k)
		applied[k] = true
	}
	rs.Close()
	res.applied = len(applied)
	for k := range ok {
		if !applied[k] {
			res.lost++
			s.mu.Lock()
			res.lostAt = append(res.lostAt, s.okAt[k])
			s.mu.Unlock()
		}
	}
	var n int
	for _, q := range []string{
		`SELECT count(*) FROM (SELECT stripe_event_id FROM transactions WHERE booking_id = ANY($1) GROUP BY 1 HAVING count(*) > 1) x`,
		`SELECT count(*) FROM (SELECT booking_id FROM transactions WHERE booking_id = ANY($1) AND kind = 'payment' GROUP BY 1 HAVING count(*) > 1) x`,
	} {
		if err := db.QueryRow(q, ids).Scan(&n); err != nil {
			r.t.Fatal(err)
		}
		res.doubledRows += n
	}
	// Messages: per recipient, the doubles took no more than the
	// notifications rows for it (SMS), no more distinct Message-IDs than
	// rows, and each Message-ID once (email).
	got := r.sinks.Received()
	rs, err = db.Query(`SELECT channel, recipient, status FROM notifications WHERE booking_id = ANY($1)`, ids)
	if err != nil {
		r.t.Fatal(err)
	}
	defer rs.Close()
	statuses := map[string]int{}
	want := map[[2]string]int{}
	for rs.Next() {
		var ch, to, st string
		if err := rs.Scan(&ch, &to, &st); err != nil {
			r.t.Fatal(err)
		}
		statuses[ch+":"+st]++
		if st != "sent" {
			res.notSent++
		}
		want[[2]string{ch, to}]++
	}
	for k, rowsFor := range want {
		switch k[0] {
		case "sms":
			res.smsDoubled += max(0, len(got.SMS[k[1]])-rowsFor)
		case "email":
			ids := got.Email[k[1]]
			distinct := map[string]bool{}
			for _, id := range ids {
				distinct[id] = true
			}
			res.emailDistinct += max(0, len(distinct)-rowsFor)
			res.emailSame += len(ids) - len(distinct)
		}
	}
	sms, email := r.sinks.Counts()
	r.t.Logf("%s: notifications by status %v; doubles took %d SMS, %d emails; sender: %d requests, %d not 2xx",
		r.name, statuses, sms, email, res.requests, res.non2xx)
	return res
}

// report logs res, adds it to the table and fails the test where the
// contract says 0 (lost, doubled rows, doubled SMS, emails under distinct
// Message-IDs) unless allow names the figure.
func (r *rig) report(res result, allow ...string) {
	r.t.Helper()
	secs := time.Since(r.started).Seconds()
	row := fmt.Sprintf("| %s | %d | %d | %d | %d | %d | %d | %d | %d | %.0f |", r.name, res.sent, res.ok, res.applied,
		res.lost, res.doubledRows, res.smsDoubled, res.emailDistinct, res.emailSame, secs)
	r.t.Logf("%s: sent %d, 200s %d, applied %d, lost %d, doubled rows %d, doubled SMS %d, doubled email %d distinct / %d same Message-ID, not sent %d (%.0fs)",
		r.name, res.sent, res.ok, res.applied, res.lost, res.doubledRows, res.smsDoubled, res.emailDistinct, res.emailSame, res.notSent, secs)
	rowsMu.Lock()
	rows = append(rows, row)
	rowsMu.Unlock()
	allowed := map[string]bool{}
	for _, a := range allow {
		allowed[a] = true
	}
	for _, f := range []struct {
		name string
		n    int
	}{{"lost", res.lost}, {"doubled rows", res.doubledRows}, {"doubled SMS", res.smsDoubled},
		{"doubled email (distinct Message-ID)", res.emailDistinct}, {"unanswered", res.sent - res.ok}} {
		if f.n > 0 && !allowed[f.name] {
			r.t.Errorf("%s: %s = %d, want 0", r.name, f.name, f.n)
		}
	}
}
