package tasks_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/tasks"
)

func TestRequestRoundTrip(t *testing.T) {
	for _, r := range []tasks.Request{
		{At: time.UnixMilli(1764000000123).UTC(), Provider: "stripe", Outcome: "accepted", Status: 200,
			EventID: "evt_1", Type: "payment_intent.succeeded", BookingID: 42, TaskID: "stripe:evt_1"},
		{At: time.UnixMilli(1764000000000).UTC(), Provider: "twilio", Outcome: "invalid_signature", Status: 403,
			Reason: "invalid signature"},
		{At: time.UnixMilli(1764000000000).UTC(), Provider: "twilio", Outcome: "duplicate", Status: 200,
			EventID: "SM1:delivered", MessageSID: "SM1", Type: "delivered", TaskID: "twilio:SM1:delivered"},
	} {
		v := r.Values()
		m := map[string]any{}
		for i := 0; i < len(v); i += 2 {
			m[v[i].(string)] = v[i+1]
		}
		got, err := tasks.ParseRequest("1-0", m)
		if err != nil {
			t.Fatal(err)
		}
		r.ID = "1-0"
		if d := cmp.Diff(r, got); d != "" {
			t.Errorf("round trip (-want +got):\n%s", d)
		}
	}
	if _, err := tasks.ParseRequest("1-0", map[string]any{"x": "y"}); !errors.Is(err, tasks.ErrBadRequestEntry) {
		t.Errorf("foreign entry: err = %v, want ErrBadRequestEntry", err)
	}
}
