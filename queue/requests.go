package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reserveeasy/gateway/tasks"
)

// RequestLog is the request log: a capped Redis stream (tasks.RequestsStream)
// of every webhook request and its outcome, newest last.
type RequestLog struct {
	rdb redis.UniversalClient
}

// NewRequestLog returns the request log over r's client.
func NewRequestLog(r *Redis) *RequestLog { return &RequestLog{rdb: r.Client} }

// Add appends one entry, trimming the stream to about
// tasks.RequestLogMaxLen entries.
func (l *RequestLog) Add(ctx context.Context, r tasks.Request) error {
	err := l.rdb.XAdd(ctx, &redis.XAddArgs{Stream: tasks.RequestsStream, MaxLen: tasks.RequestLogMaxLen,
		Approx: true, Values: r.Values()}).Err()
	if err != nil {
		return fmt.Errorf("add to request log: %w", err)
	}
	return nil
}

// Trim drops the entries older than tasks.RequestLogMaxAge before now.
func (l *RequestLog) Trim(ctx context.Context, now time.Time) error {
	minID := strconv.FormatInt(now.Add(-tasks.RequestLogMaxAge).UnixMilli(), 10)
	if err := l.rdb.XTrimMinID(ctx, tasks.RequestsStream, minID).Err(); err != nil {
		return fmt.Errorf("trim request log: %w", err)
	}
	return nil
}

// List returns up to count entries, newest first, starting at the entry
// before "before" (a stream id; "" for the newest). Entries that are not
// request log entries are skipped.
func (l *RequestLog) List(ctx context.Context, before string, count int64) ([]tasks.Request, error) {
	end := "+"
	if before != "" {
		end = "(" + before
	}
	msgs, err := l.rdb.XRevRangeN(ctx, tasks.RequestsStream, end, "-", count).Result()
	if err != nil {
		return nil, fmt.Errorf("read request log: %w", err)
	}
	out := make([]tasks.Request, 0, len(msgs))
	for _, m := range msgs {
		r, err := tasks.ParseRequest(m.ID, m.Values)
		if err != nil {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
