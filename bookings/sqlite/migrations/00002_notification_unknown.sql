-- A notification whose provider call ended ambiguously (a timeout or reset
-- after the request was written, a Twilio 5xx, an SMTP error after DATA) is
-- `unknown`: before it is sent again the worker asks the provider whether
-- it already took it. SQLite cannot change a CHECK constraint in place: the
-- table is rebuilt (nothing references it).

-- +goose Up
CREATE TABLE notifications_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    booking_id       INTEGER NOT NULL REFERENCES bookings (id),
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    template         TEXT NOT NULL,
    recipient        TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'unknown', 'sent', 'logged', 'failed')),
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
INSERT INTO notifications_new (id, booking_id, channel, template, recipient, status, provider_id, created_at, sent_at, notification_key, subject, body, html, attempts, last_error, claimed_at)
    SELECT id, booking_id, channel, template, recipient, status, provider_id, created_at, sent_at, notification_key, subject, body, html, attempts, last_error, claimed_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_booking_id_idx ON notifications (booking_id);

-- +goose Down
UPDATE notifications SET status = 'pending' WHERE status = 'unknown';
CREATE TABLE notifications_new (
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
INSERT INTO notifications_new (id, booking_id, channel, template, recipient, status, provider_id, created_at, sent_at, notification_key, subject, body, html, attempts, last_error, claimed_at)
    SELECT id, booking_id, channel, template, recipient, status, provider_id, created_at, sent_at, notification_key, subject, body, html, attempts, last_error, claimed_at FROM notifications;
DROP TABLE notifications;
ALTER TABLE notifications_new RENAME TO notifications;
CREATE INDEX notifications_booking_id_idx ON notifications (booking_id);
