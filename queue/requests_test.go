package queue_test

import (
	"testing"
	"time"

	"github.com/reserveeasy/gateway/queue"
	"github.com/reserveeasy/gateway/tasks"
)

func TestRequestLog(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, _ string) {
		ctx := t.Context()
		if err := r.Client.Del(ctx, tasks.RequestsStream).Err(); err != nil {
			t.Fatal(err)
		}
		l := queue.NewRequestLog(r)
		now := time.Now().UTC().Truncate(time.Millisecond)
		for i, o := range []string{"accepted", "invalid_signature", "duplicate"} {
			if err := l.Add(ctx, tasks.Request{At: now.Add(time.Duration(i) * time.Millisecond), Provider: "stripe", Outcome: o, Status: 200}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := l.List(ctx, "", 2)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].Outcome != "duplicate" || got[1].Outcome != "invalid_signature" {
			t.Fatalf("List newest 2 = %+v", got)
		}
		older, err := l.List(ctx, got[1].ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(older) != 1 || older[0].Outcome != "accepted" || !older[0].At.Equal(now) {
			t.Fatalf("List before %s = %+v", got[1].ID, older)
		}
		if err := l.Trim(ctx, time.Now()); err != nil {
			t.Fatal(err)
		}
		if kept, _ := l.List(ctx, "", 10); len(kept) != 3 {
			t.Fatalf("trim of fresh entries kept %d, want 3", len(kept))
		}
		if err := l.Trim(ctx, time.Now().Add(tasks.RequestLogMaxAge+time.Hour)); err != nil {
			t.Fatal(err)
		}
		left, err := l.List(ctx, "", 10)
		if err != nil || len(left) != 0 {
			t.Fatalf("after trim: %d entries, %v", len(left), err)
		}
	})
}
