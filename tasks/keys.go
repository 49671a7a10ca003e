package tasks

import (
	"fmt"
	"strconv"
)

// The gateway's own keys in Redis, each format built here alone (Asynq's
// keys start with asynq:). Message keys (notifications.key) are the event's
// MessagePrefix followed by the template name.
const (
	// SeenPrefix prefixes the keys of events the workers have applied and
	// of door guards (SeenKey).
	SeenPrefix = "gateway:seen:"
	// LeasePrefix prefixes the keys of leases (LeaseKey).
	LeasePrefix = "gateway:lease:"
	// ReceiptPrefix prefixes the keys of provider receipts not yet
	// recorded in the database, by notification id (ReceiptKey).
	ReceiptPrefix = "gateway:receipt:"
	// ReplicatedPrefix prefixes the marker keys of the replica wait.
	ReplicatedPrefix = "gateway:replicated:"
)

// SeenKey is the key that marks the event (or door guard) id as seen.
func SeenKey(id string) string { return SeenPrefix + id }

// LeaseKey is the key of the lease name (one holder at a time).
func LeaseKey(name string) string { return LeasePrefix + name }

// ReceiptKey is the key of the receipt of notification id.
func ReceiptKey(notificationID int64) string {
	return ReceiptPrefix + strconv.FormatInt(notificationID, 10)
}

// NotifyTaskID is the task id of the notify:send task of notification id.
func NotifyTaskID(notificationID int64) string { return fmt.Sprintf("notify:%d", notificationID) }

// MessagePrefix is the prefix of the keys of the messages a task causes:
// its task id and ":", so that one event writes each message once.
func MessagePrefix(taskID string) string { return taskID + ":" }
