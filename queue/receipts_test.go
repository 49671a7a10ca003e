package queue_test

import (
	"testing"
	"time"

	"github.com/reserveeasy/gateway/queue"
)

func TestReceipts(t *testing.T) {
	backends(t, func(t *testing.T, r *queue.Redis, _ string) {
		k := queue.NewReceipts(r)
		if _, ok, err := k.Receipt(t.Context(), 41); ok || err != nil {
			t.Fatalf("Receipt before any = %v, %v; want none", ok, err)
		}
		want := "SM0123"
		if err := k.KeepReceipt(t.Context(), 41, want); err != nil {
			t.Fatal(err)
		}
		got, ok, err := k.Receipt(t.Context(), 41)
		if err != nil || !ok || got != want {
			t.Errorf("Receipt = %q, %v, %v; want %q", got, ok, err, want)
		}
		if _, ok, _ := k.Receipt(t.Context(), 42); ok {
			t.Error("another notification has the receipt")
		}
		ttl, err := r.Client.TTL(t.Context(), "gateway:receipt:41").Result()
		if err != nil || ttl <= 23*time.Hour || ttl > queue.ReceiptTTL {
			t.Errorf("TTL = %v, %v; want about a day", ttl, err)
		}
	})
}
