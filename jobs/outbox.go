package jobs

import (
	"context"
	"fmt"

	"github.com/reserveeasy/gateway/bookings"
	"github.com/reserveeasy/gateway/notifications"
)

// outbox writes the messages an event decided on, inside its transaction.
// Keys are prefix + template, so one event writes each message once.
type outbox struct {
	tx     bookings.Tx
	prefix string
	w      *worker
}

func (w *worker) outbox(tx bookings.Tx, prefix string) *outbox {
	return &outbox{tx: tx, prefix: prefix, w: w}
}

func data(b bookings.Booking) notifications.Data {
	return notifications.Data{BookingID: b.ID, CustomerName: b.CustomerName, Amount: b.DepositAmount, Currency: b.DepositCurrency}
}

// email writes an email to the customer; a booking without an email address
// gets none (logged).
func (o *outbox) email(ctx context.Context, b bookings.Booking, template string, d notifications.Data) error {
	if b.CustomerEmail == "" {
		o.w.Log.Warn("booking has no email address; message not written", "booking_id", b.ID, "template", template)
		return nil
	}
	return o.emailTo(ctx, b.ID, b.CustomerEmail, template, d)
}

func (o *outbox) emailTo(ctx context.Context, bookingID int64, to, template string, d notifications.Data) error {
	m, err := o.w.templates().RenderEmail(template, to, d)
	if err != nil {
		return fmt.Errorf("render %s: %w", template, err)
	}
	return o.add(ctx, bookings.Notification{
		BookingID: bookingID, Channel: bookings.ChannelEmail, Template: template, Recipient: to,
		Subject: m.Subject, Body: m.Text, HTML: m.HTML,
	})
}

// sms writes a text message to the customer's phone.
func (o *outbox) sms(ctx context.Context, b bookings.Booking, template string, d notifications.Data) error {
	if b.CustomerPhone == "" {
		o.w.Log.Warn("booking has no phone number; SMS not written", "booking_id", b.ID, "template", template)
		return nil
	}
	body, err := o.w.templates().RenderSMS(template, d)
	if err != nil {
		return fmt.Errorf("render %s: %w", template, err)
	}
	return o.add(ctx, bookings.Notification{
		BookingID: b.ID, Channel: bookings.ChannelSMS, Template: template, Recipient: b.CustomerPhone, Body: body,
	})
}

// alert writes a support alert to SUPPORT_EMAIL (logged when unset).
func (o *outbox) alert(ctx context.Context, b bookings.Booking, reason, detail string) error {
	d := data(b)
	d.Reason, d.Detail = reason, detail
	return o.emailTo(ctx, b.ID, o.w.SupportEmail, notifications.TemplateSupportAlert, d)
}

func (o *outbox) add(ctx context.Context, n bookings.Notification) error {
	n.Key = o.prefix + n.Template
	n.Status = bookings.NotificationPending
	n.CreatedAt = o.w.Now()
	if _, err := o.tx.AddNotification(ctx, n); err != nil {
		return fmt.Errorf("write %s notification for booking %d: %w", n.Template, n.BookingID, err)
	}
	return nil
}

// templates are the Deps' templates, else the embedded defaults.
func (w *worker) templates() *notifications.Templates {
	if w.Templates != nil {
		return w.Templates
	}
	return notifications.DefaultTemplates()
}
