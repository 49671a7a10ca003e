-- Bookings, the money they moved, the webhook events applied to them and
-- the messages they caused. Table and column names are a contract with
-- other systems (README.md, "Tables"): add, never rename.

-- +goose Up
CREATE TABLE bookings (
    id                       BIGSERIAL PRIMARY KEY,
    customer_name            TEXT NOT NULL,
    customer_phone           TEXT NOT NULL,
    customer_email           TEXT,
    status                   TEXT NOT NULL DEFAULT 'confirmed'
        CHECK (status IN ('confirmed', 'payment_pending', 'cancelled')),
    created_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at               TIMESTAMPTZ NOT NULL DEFAULT now(),
    sms_message_sid          TEXT,
    sms_status               TEXT,
    sms_delivered            BOOLEAN NOT NULL DEFAULT FALSE,
    sms_delivered_at         TIMESTAMPTZ,
    deposit_amount           BIGINT NOT NULL DEFAULT 0,
    deposit_currency         TEXT NOT NULL DEFAULT 'usd',
    deposit_paid             BOOLEAN NOT NULL DEFAULT FALSE,
    deposit_paid_at          TIMESTAMPTZ,
    stripe_payment_intent_id TEXT,
    deposit_refunded         BOOLEAN NOT NULL DEFAULT FALSE,
    refunded_at              TIMESTAMPTZ,
    cancelled_at             TIMESTAMPTZ,
    cancel_reason            TEXT,
    hold_expires_at          TIMESTAMPTZ
);
CREATE INDEX bookings_sms_message_sid_idx ON bookings (sms_message_sid);
CREATE INDEX bookings_stripe_payment_intent_id_idx ON bookings (stripe_payment_intent_id);
CREATE INDEX bookings_phone_status_created_idx ON bookings (customer_phone, status, created_at);

CREATE TABLE transactions (
    id               BIGSERIAL PRIMARY KEY,
    booking_id       BIGINT NOT NULL REFERENCES bookings (id),
    kind             TEXT NOT NULL CHECK (kind IN ('payment', 'refund')),
    amount           BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    stripe_object_id TEXT,
    stripe_event_id  TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (stripe_event_id, kind)
);
CREATE INDEX transactions_booking_id_idx ON transactions (booking_id);
CREATE INDEX transactions_stripe_object_idx ON transactions (stripe_object_id, kind);

CREATE TABLE webhook_events (
    id           BIGSERIAL PRIMARY KEY,
    source       TEXT NOT NULL CHECK (source IN ('twilio', 'stripe')),
    event_id     TEXT NOT NULL,
    type         TEXT NOT NULL DEFAULT '',
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    processed_at TIMESTAMPTZ,
    booking_id   BIGINT REFERENCES bookings (id) ON DELETE SET NULL,
    outcome      TEXT,
    UNIQUE (source, event_id)
);
CREATE INDEX webhook_events_received_at_idx ON webhook_events (received_at);
CREATE INDEX webhook_events_booking_id_idx ON webhook_events (booking_id);

CREATE TABLE notifications (
    id               BIGSERIAL PRIMARY KEY,
    booking_id       BIGINT NOT NULL REFERENCES bookings (id),
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    template         TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'logged', 'failed')),
    provider_id      TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at          TIMESTAMPTZ,
    notification_key TEXT NOT NULL UNIQUE,
    subject          TEXT,
    body             TEXT,
    html             TEXT,
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    claimed_at       TIMESTAMPTZ
);
CREATE INDEX notifications_booking_id_idx ON notifications (booking_id);
-- Prefix searches (LIKE 'stripe:evt_1:%') whatever the database collation.
CREATE INDEX notifications_key_prefix_idx ON notifications (notification_key text_pattern_ops);

-- +goose Down
DROP TABLE notifications;
DROP TABLE webhook_events;
DROP TABLE transactions;
DROP TABLE bookings;
