-- A notification whose provider call ended ambiguously (a timeout or reset
-- after the request was written, a Twilio 5xx, an SMTP error after DATA) is
-- `unknown`: before it is sent again the worker asks the provider whether
-- it already took it.

-- +goose Up
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
    CHECK (status IN ('pending', 'sending', 'unknown', 'sent', 'logged', 'failed'));

-- +goose Down
UPDATE notifications SET status = 'pending' WHERE status = 'unknown';
ALTER TABLE notifications DROP CONSTRAINT notifications_status_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_status_check
    CHECK (status IN ('pending', 'sending', 'sent', 'logged', 'failed'));
