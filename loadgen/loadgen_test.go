package loadgen

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reserveeasy/gateway/tasks"
	"github.com/reserveeasy/gateway/verify"
)

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", ms(7), 99, 7 * time.Millisecond},
		{"median of odd", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"median of even is the lower", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p90 of 1..100", ms(hundred...), 90, 90 * time.Millisecond},
		{"p99 of 1..100", ms(hundred...), 99, 99 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p99 of 10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestSummarizeSorts(t *testing.T) {
	l := Summarize([]time.Duration{5, 1, 4, 2, 3})
	if l.P50 != 3 || l.Max != 5 {
		t.Errorf("Summarize = %+v, want p50 3 and max 5", l)
	}
}

// The events the generator signs are accepted by the gateway's own
// verifiers and decoders.
func TestSignedEventsVerify(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	const secret, token, url = "whsec_loadgen_test", "loadgentoken", "http://127.0.0.1:8080/api/v1/webhooks/twilio/sms-status"
	t.Run("stripe", func(t *testing.T) {
		s := Signer{Provider: Stripe, StripeSecret: secret}
		for _, ev := range Generate(Mix{Provider: Stripe, Failed: 0.5, Seed: 3}, 20, 1) {
			_, sig := s.Sign(&ev, now)
			got, err := verify.Stripe(ev.Body, sig, []string{secret}, 5*time.Minute, now)
			if err != nil {
				t.Fatalf("verify.Stripe: %v\n%s", err, ev.Body)
			}
			if got.ID != ev.Key {
				t.Errorf("event id %q, want %q", got.ID, ev.Key)
			}
			if _, ok := tasks.StripeTaskType(got.Type); !ok {
				t.Errorf("type %q is not one the gateway handles", got.Type)
			}
			o, err := tasks.DecodeStripeObject(got.Object)
			if err != nil || o.BookingID() == 0 || o.Amount == 0 {
				t.Errorf("DecodeStripeObject = %+v, %v; want a booking id and an amount", o, err)
			}
		}
	})
	t.Run("twilio", func(t *testing.T) {
		s := Signer{Provider: Twilio, TwilioToken: token, URL: url}
		for _, ev := range Generate(Mix{Provider: Twilio, Seed: 3}, 20, 1) {
			_, sig := s.Sign(&ev, now)
			p, err := verify.Twilio(verify.TwilioRequest{URL: url, Signature: sig, ContentType: ev.ContentType, Body: ev.Body}, []string{token})
			if err != nil {
				t.Fatalf("verify.Twilio: %v\n%s", err, ev.Body)
			}
			if p.Get("MessageSid") == "" || p.Get("MessageStatus") == "" {
				t.Errorf("params %v lack MessageSid or MessageStatus", p)
			}
			if got := http.Header(ev.Header).Get("I-Twilio-Idempotency-Token"); got != ev.Key {
				t.Errorf("idempotency token %q, want %q", got, ev.Key)
			}
		}
	})
	t.Run("wrong secret fails", func(t *testing.T) {
		ev := Generate(Mix{Provider: Stripe}, 1, 1)[0]
		_, sig := Signer{Provider: Stripe, StripeSecret: "whsec_other"}.Sign(&ev, now)
		if _, err := verify.Stripe(ev.Body, sig, []string{secret}, 5*time.Minute, now); err == nil {
			t.Error("an event signed with another secret verified")
		}
	})
}

func TestStripeEventSize(t *testing.T) {
	ev := Generate(Mix{Provider: Stripe}, 1, 1)[0]
	if n := len(ev.Body); n < 2500 || n > 3500 {
		t.Errorf("stripe event is %d bytes, want about 3 KB", n)
	}
}

func TestDuplicates(t *testing.T) {
	const n, window = 20000, 32
	for _, share := range []float64{0, 0.05, 0.3} {
		t.Run(fmt.Sprint(share), func(t *testing.T) {
			events := Generate(Mix{Provider: Stripe, Duplicates: share, Seed: 7}, n, window)
			seen := map[string]int{} // key -> index of the original
			dups := 0
			for i, ev := range events {
				orig, ok := seen[ev.Key]
				if ev.Duplicate != ok {
					t.Fatalf("event %d (%s): Duplicate %v, but key seen before: %v", i, ev.Key, ev.Duplicate, ok)
				}
				if !ok {
					seen[ev.Key] = i
					continue
				}
				dups++
				if i-orig < window {
					t.Errorf("event %d repeats event %d, within the window of %d", i, orig, window)
				}
			}
			if got := float64(dups) / n; math.Abs(got-share) > 0.01 {
				t.Errorf("duplicate share %.3f, want %.3f ± 0.01", got, share)
			}
		})
	}
}

func TestBookingIDsInOrder(t *testing.T) {
	events := Generate(Mix{Provider: Stripe, BookingIDs: []int64{11, 12, 13}, Seed: 1}, 3, 1)
	for i, ev := range events {
		got, err := verify.DecodeStripeEvent(ev.Body)
		if err != nil {
			t.Fatal(err)
		}
		o, _ := tasks.DecodeStripeObject(got.Object)
		if want := int64(11 + i); o.BookingID() != want {
			t.Errorf("event %d is about booking %d, want %d", i, o.BookingID(), want)
		}
	}
}

func TestParseProc(t *testing.T) {
	stat := []byte("4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 8 0 1234 567890 1234 18446744073709551615\n")
	cpu, err := parseStat(stat)
	if err != nil || cpu != 3.25 {
		t.Errorf("parseStat = %v, %v; want 3.25 s (250 + 75 ticks)", cpu, err)
	}
	status := []byte("Name:\tgateway\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40000 kB\n")
	rss, err := parseHWM(status)
	if err != nil || rss != 51200*1024 {
		t.Errorf("parseHWM = %v, %v; want 50 MiB", rss, err)
	}
	if _, err := parseHWM([]byte("Name:\tx\n")); err == nil {
		t.Error("parseHWM without VmHWM: no error")
	}
}

func TestSummarizeResultsRatioPerRound(t *testing.T) {
	res := []Result{
		{Name: "bare", Provider: "stripe", Round: 1, PerSecond: 1000},
		{Name: "api", Provider: "stripe", Round: 1, PerSecond: 300, Errors: map[string]int{"503": 2}},
		{Name: "bare", Provider: "stripe", Round: 2, PerSecond: 500},
		{Name: "api", Provider: "stripe", Round: 2, PerSecond: 200},
	}
	rows := SummarizeResults(res, "bare")
	api := rows[1]
	if api.Name != "api" || api.RatioMin != 0.3 || api.RatioMax != 0.4 || math.Abs(api.Ratio-0.35) > 1e-9 || api.Errors != 2 {
		t.Errorf("api row = %+v, want ratio 0.35 (0.30-0.40) and 2 errors", api)
	}
}

// fakeClock is a run's time, moved only by SleepUntil and by the test.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) SleepUntil(_ context.Context, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.now) {
		c.now = t
	}
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// At a fixed rate, a request's latency counts from when it was due: a
// target that stalls on one request is charged for every request queued
// behind it (no coordinated omission), and requests are not sent early.
func TestOpenLoopLatencyFromDueTime(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	start := clk.Now()
	var mu sync.Mutex
	var sentAt []time.Duration // when each request reached the target, since start
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		first := len(sentAt) == 0
		sentAt = append(sentAt, clk.Now().Sub(start))
		mu.Unlock()
		if first {
			clk.advance(time.Second) // the target stalls a second on the first request
		}
	}))
	defer srv.Close()
	const n, rate = 10, 100.0 // due every 10ms
	events := Generate(Mix{Provider: Stripe, Seed: 5}, n, 1)
	res, err := Run{Name: "t", URL: srv.URL, Concurrency: 1, Rate: rate, Events: events,
		Signer: Signer{Provider: Stripe, StripeSecret: "whsec_x"}, clock: clk}.Do(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.OK != n || res.Rate != rate {
		t.Fatalf("OK %d, Rate %v; want %d, %v", res.OK, res.Rate, n, rate)
	}
	// Request 0 took the second; request k, due at 10k ms, could only be
	// sent at 1s and was answered at once: 1000-10k ms from its due time.
	// Measured from the send, every one after the first would be 0.
	if res.Maxms != 1000 || res.P50ms != 950 || res.P90ms != 990 {
		t.Errorf("p50 %v, p90 %v, max %v ms; want 950, 990, 1000 (from the due times)", res.P50ms, res.P90ms, res.Maxms)
	}
	for i, at := range sentAt {
		if d := due(start, i, rate).Sub(start); at < d {
			t.Errorf("request %d sent at %v, before it was due (%v)", i, at, d)
		}
	}
	if res.Seconds != 1 {
		t.Errorf("Seconds %v, want 1 (the stall; the rest were late)", res.Seconds)
	}
}

// Closed loop (no Rate), latency counts from the send.
func TestClosedLoopLatencyFromSend(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		if calls.Add(1) == 1 {
			clk.advance(time.Second)
		}
	}))
	defer srv.Close()
	res, err := Run{Name: "t", URL: srv.URL, Concurrency: 1, Events: Generate(Mix{Provider: Stripe, Seed: 5}, 10, 1),
		Signer: Signer{Provider: Stripe, StripeSecret: "whsec_x"}, clock: clk}.Do(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.Maxms != 1000 || res.P90ms != 0 || res.Rate != 0 {
		t.Errorf("p90 %v, max %v ms, rate %v; want 0, 1000, 0", res.P90ms, res.Maxms, res.Rate)
	}
}

func TestDue(t *testing.T) {
	s := time.Unix(0, 0)
	if got := due(s, 3, 4).Sub(s); got != 750*time.Millisecond {
		t.Errorf("due(3 at 4/s) = %v, want 750ms", got)
	}
	if got := due(s, 0, 1000).Sub(s); got != 0 {
		t.Errorf("due(0) = %v, want 0", got)
	}
}
