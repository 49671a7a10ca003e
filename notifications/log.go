package notifications

import (
	"context"
	"log/slog"
)

// LogMailer stands in for an SMTP server when none is configured: it logs
// each email at info level, recipient masked, and sends nothing. The body,
// which names the customer, is not logged: only its length.
type LogMailer struct {
	log *slog.Logger
}

var _ Mailer = (*LogMailer)(nil)

// NewLogMailer returns a LogMailer writing to log (slog.Default() if nil).
func NewLogMailer(log *slog.Logger) *LogMailer {
	if log == nil {
		log = slog.Default()
	}
	return &LogMailer{log: log}
}

// SendEmail logs m and returns Receipt{Logged: true}.
func (l *LogMailer) SendEmail(ctx context.Context, m Email) (Receipt, error) {
	l.log.InfoContext(ctx, "email not sent (no SMTP_URL): logged only",
		slog.String("template", m.Template),
		slog.String("to", MaskEmail(m.To)),
		slog.String("subject", m.Subject),
		slog.Int("text_bytes", len(m.Text)),
		slog.Int("html_bytes", len(m.HTML)))
	return Receipt{Logged: true}, nil
}

// LogTexter stands in for Twilio when it is not configured: it logs each
// SMS at info level, recipient masked, and sends nothing. The body is not
// logged: only its length.
type LogTexter struct {
	log *slog.Logger
}

var _ Texter = (*LogTexter)(nil)

// NewLogTexter returns a LogTexter writing to log (slog.Default() if nil).
func NewLogTexter(log *slog.Logger) *LogTexter {
	if log == nil {
		log = slog.Default()
	}
	return &LogTexter{log: log}
}

// SendSMS logs m and returns Receipt{Logged: true}.
func (l *LogTexter) SendSMS(ctx context.Context, m SMS) (Receipt, error) {
	l.log.InfoContext(ctx, "sms not sent (Twilio not configured): logged only",
		slog.String("template", m.Template),
		slog.String("to", MaskPhone(m.To)),
		slog.Int("body_bytes", len(m.Body)),
		slog.String("status_callback", m.StatusCallback))
	return Receipt{Logged: true}, nil
}
