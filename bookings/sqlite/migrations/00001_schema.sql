-- Bookings, the money they moved, the webhook events applied to them and
-- the messages they caused. Table and column names are a contract with
-- other systems (README.md, "Tables"): add, never rename.
--
-- Times are DATETIME text in UTC, 'YYYY-MM-DD HH:MM:SS.ffffff' (the
-- defaults write milliseconds). Text in that form, or CURRENT_TIMESTAMP's,
-- sorts in time order. Booleans are 0 or 1.

-- +goose Up
CREATE TABLE bookings (
    id                       INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_name            TEXT NOT NULL,
    customer_phone           TEXT NOT NULL,
    customer_email           TEXT,
    status                   TEXT NOT NULL DEFAULT 'confirmed'
        CHECK (status IN ('confirmed', 'payment_pending', 'cancelled')),
    created_at               DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    updated_at               DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    sms_message_sid          TEXT,
    sms_status               TEXT,
    sms_delivered            BOOLEAN NOT NULL DEFAULT 0 CHECK (sms_delivered IN (0, 1)),
    sms_delivered_at         DATETIME,
    deposit_amount           BIGINT NOT NULL DEFAULT 0,
    deposit_currency         TEXT NOT NULL DEFAULT 'usd',
    deposit_paid             BOOLEAN NOT NULL DEFAULT 0 CHECK (deposit_paid IN (0, 1)),
    deposit_paid_at          DATETIME,
    stripe_payment_intent_id TEXT,
    deposit_refunded         BOOLEAN NOT NULL DEFAULT 0 CHECK (deposit_refunded IN (0, 1)),
    refunded_at              DATETIME,
    cancelled_at             DATETIME,
    cancel_reason            TEXT,
    hold_expires_at          DATETIME
);
CREATE INDEX bookings_sms_message_sid_idx ON bookings (sms_message_sid);
CREATE INDEX bookings_stripe_payment_intent_id_idx ON bookings (stripe_payment_intent_id);
CREATE INDEX bookings_phone_status_created_idx ON bookings (customer_phone, status, created_at);

CREATE TABLE transactions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id       INTEGER NOT NULL REFERENCES bookings (id),
    kind             TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    amount           BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    stripe_object_id TEXT,
    stripe_event_id  TEXT,
    created_at       DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    UNIQUE (stripe_event_id, kind)
);
CREATE INDEX transactions_booking_id_idx ON transactions (booking_id);
CREATE INDEX transactions_stripe_object_idx ON transactions (stripe_object_id, kind);

CREATE TABLE webhook_events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT NOT NULL CHECK (source IN ('twilio', 'stripe')),
    event_id     TEXT NOT NULL,
    type         TEXT NOT NULL DEFAULT '',
    received_at  DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    processed_at DATETIME,
    booking_id   INTEGER REFERENCES bookings (id) ON DELETE SET NULL,
    outcome      TEXT,
    UNIQUE (source, event_id)
);
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at);
CREATE INDEX webhook_events_booking_id_idx ON webhook_events (booking_id);

CREATE TABLE notifications (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id       INTEGER NOT NULL REFERENCES bookings (id),
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    template         TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'logged', 'failed')),
    provider_id      TEXT,
    created_at       DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    sent_at          DATETIME,
    notification_key TEXT NOT NULL UNIQUE,
    subject          TEXT,
    body             TEXT,
    html             TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    claimed_at       DATETIME
);
CREATE INDEX notifications_booking_id_idx ON notifications (booking_id);

-- +goose Down
DROP TABLE notifications;
DROP TABLE webhook_events;
DROP TABLE transactions;
DROP TABLE bookings;
