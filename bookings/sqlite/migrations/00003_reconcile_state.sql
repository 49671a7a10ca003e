-- Where `gateway reconcile` got to, per source: the Stripe events API is
-- listed from cursor_at on (created[gte]), so every run lists only what is
-- new since the last one that applied everything.

-- +goose Up
CREATE TABLE reconcile_state (
    source     TEXT PRIMARY KEY,
    cursor_at  DATETIME NOT NULL,
    updated_at DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

-- +goose Down
DROP TABLE reconcile_state;
