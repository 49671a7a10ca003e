package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/reserveeasy/gateway/notifications"
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

type receipt struct {
	ProviderID string `json:"provider_id"`
	Logged     bool   `json:"logged,omitempty"`
}

func receiptKey(notificationID int64) string {
	return receiptPrefix + strconv.FormatInt(notificationID, 10)
}

// KeepReceipt remembers that the provider accepted notification id.
func (k *Receipts) KeepReceipt(ctx context.Context, id int64, r notifications.Receipt) error {
	b, err := json.Marshal(receipt{ProviderID: r.ProviderID, Logged: r.Logged})
	if err != nil {
		return fmt.Errorf("encode receipt of notification %d: %w", id, err)
	}
	if err := k.rdb.Set(ctx, receiptKey(id), b, k.ttl).Err(); err != nil {
		return fmt.Errorf("keep receipt of notification %d: %w", id, err)
	}
	return nil
}

// Receipt returns the receipt kept for notification id, if any.
func (k *Receipts) Receipt(ctx context.Context, id int64) (notifications.Receipt, bool, error) {
	b, err := k.rdb.Get(ctx, receiptKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return notifications.Receipt{}, false, nil
	}
	if err != nil {
		return notifications.Receipt{}, false, fmt.Errorf("read receipt of notification %d: %w", id, err)
	}
	var r receipt
	if err := json.Unmarshal(b, &r); err != nil {
		return notifications.Receipt{}, false, fmt.Errorf("decode receipt of notification %d: %w", id, err)
	}
	return notifications.Receipt{ProviderID: r.ProviderID, Logged: r.Logged}, true, nil
}
