package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reserveeasy/gateway/tasks"
)

// ReceiptTTL is how long a receipt is kept: longer than any retry of the
// task that sends the message waits for the database.
const ReceiptTTL = 24 * time.Hour

// Receipts keeps what a provider accepted for a notification (the
// gateway:receipt:ID key, kept ReceiptTTL) until the database has recorded
// it, so that an attempt after a database outage or a crash records the
// message instead of sending it again.
type Receipts struct {
	rdb redis.UniversalClient
	ttl time.Duration
}

// NewReceipts returns Receipts over r's client.
func NewReceipts(r *Redis) *Receipts { return &Receipts{rdb: r.Client, ttl: ReceiptTTL} }

// receipt is the JSON kept under a gateway:receipt: key.
type receipt struct {
	ProviderID string `json:"provider_id"`
}

// KeepReceipt remembers that the provider accepted notification id under
// providerID (an SMTP Message-ID or a Twilio message sid).
func (k *Receipts) KeepReceipt(ctx context.Context, id int64, providerID string) error {
	b, err := json.Marshal(receipt{ProviderID: providerID})
	if err != nil {
		return fmt.Errorf("encode receipt of notification %d: %w", id, err)
	}
	if err := k.rdb.Set(ctx, tasks.ReceiptKey(id), b, k.ttl).Err(); err != nil {
		return fmt.Errorf("keep receipt of notification %d: %w", id, err)
	}
	return nil
}

// Receipt returns the provider id kept for notification id, if any.
func (k *Receipts) Receipt(ctx context.Context, id int64) (string, bool, error) {
	b, err := k.rdb.Get(ctx, tasks.ReceiptKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("read receipt of notification %d: %w", id, err)
	}
	var r receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return "", false, fmt.Errorf("decode receipt of notification %d: %w", id, err)
	}
	return r.ProviderID, true, nil
}
