package notifications

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
)

// Template names, as stored in the notifications table's template column.
const (
	// TemplateConfirmationSMS is the SMS confirming a paid booking.
	TemplateConfirmationSMS = "booking_confirmation_sms"
	// TemplateConfirmationEmail confirms a booking by email when the
	// confirmation SMS could not be delivered.
	TemplateConfirmationEmail = "booking_confirmation_email"
	// TemplatePaymentFailed asks the customer to update their card.
	TemplatePaymentFailed = "payment_failed"
	// TemplateCancelled tells the customer the booking was cancelled because
	// the deposit never arrived.
	TemplateCancelled = "booking_cancelled"
	// TemplateRefund tells the customer their deposit was refunded.
	TemplateRefund = "deposit_refunded"
	// TemplateSupportAlert is the email to support about a booking that needs
	// a person.
	TemplateSupportAlert = "support_alert"
)

// Data is what the templates may show.
type Data struct {
	BookingID    int64
	CustomerName string
	Amount       int64  // minor units
	Currency     string // ISO code, any case
	Reason       string // for support alerts and cancellations
	Detail       string // free text for support alerts (error code etc.)
	// Of is the whole that Amount is a part of (minor units): the deposit,
	// for a refund of part of it.
	Of int64
	// Share says what a refund gave back: "" or "whole" (the whole
	// deposit: "Your $60.00 deposit has been refunded"), "part" ("$20.00 of
	// your $60.00 deposit") or "the_rest" (the last part: "The remaining
	// $40.00 of your $60.00 deposit").
	Share string
}

// view is what templates execute on: Data plus the formatted deposit.
type view struct {
	Data
	Deposit string // FormatAmount(Amount, Currency); "" without a currency
	Whole   string // FormatAmount(Of, Currency); "" without a currency or Of
	// PartRefunded and RestRefunded pick a refund's wording (Share), when
	// both amounts can be written; otherwise it reads as the whole deposit.
	PartRefunded, RestRefunded bool
}

func newView(d Data) view {
	v := view{Data: d}
	if strings.TrimSpace(d.Currency) != "" {
		v.Deposit = FormatAmount(d.Amount, d.Currency)
		if d.Of > 0 {
			v.Whole = FormatAmount(d.Of, d.Currency)
		}
	}
	if v.Whole != "" {
		v.PartRefunded = d.Share == "part"
		v.RestRefunded = d.Share == "the_rest"
	}
	return v
}

//go:embed templates
var templateFS embed.FS

// emailTemplate is one email: the text template defines "subject" and its
// body is the plain-text part; the HTML one fills the shared layout.
type emailTemplate struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// emailTemplates and smsTemplates are parsed once and never changed.
var (
	emailTemplates = mustParseEmails(TemplateConfirmationEmail, TemplatePaymentFailed,
		TemplateCancelled, TemplateRefund, TemplateSupportAlert)
	smsTemplates = mustParseSMS(TemplateConfirmationSMS)
)

func mustParseEmails(names ...string) map[string]emailTemplate {
	ts := make(map[string]emailTemplate, len(names))
	for _, name := range names {
		ts[name] = emailTemplate{
			text: texttemplate.Must(texttemplate.New(name+".txt").Option("missingkey=error").
				ParseFS(templateFS, "templates/email/partials.txt", "templates/email/"+name+".txt")),
			html: htmltemplate.Must(htmltemplate.New(name+".html").Option("missingkey=error").
				ParseFS(templateFS, "templates/email/layout.html", "templates/email/"+name+".html")),
		}
	}
	return ts
}

func mustParseSMS(names ...string) map[string]*texttemplate.Template {
	ts := make(map[string]*texttemplate.Template, len(names))
	for _, name := range names {
		ts[name] = texttemplate.Must(texttemplate.New(name+".txt").Option("missingkey=error").
			ParseFS(templateFS, "templates/sms/"+name+".txt"))
	}
	return ts
}

// RenderEmail renders the email template name for the recipient to. The
// plain-text part comes from text/template, the HTML part from
// html/template, which escapes the data. An unknown name is an error.
func RenderEmail(name string, to string, d Data) (Email, error) {
	t, ok := emailTemplates[name]
	if !ok {
		return Email{}, fmt.Errorf("render email: unknown template %q", name)
	}
	v := newView(d)
	var subject, text, html bytes.Buffer
	if err := t.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return Email{}, fmt.Errorf("render email %s subject: %w", name, err)
	}
	if err := t.text.Execute(&text, v); err != nil {
		return Email{}, fmt.Errorf("render email %s text: %w", name, err)
	}
	if err := t.html.ExecuteTemplate(&html, "layout", v); err != nil {
		return Email{}, fmt.Errorf("render email %s html: %w", name, err)
	}
	return Email{
		To: to,
		// A subject is one line whatever the data holds.
		Subject: strings.Join(strings.Fields(subject.String()), " "),
		Text:    strings.TrimSpace(text.String()) + "\n",
		HTML:    html.String(),
	}, nil
}

// RenderSMS renders the body of the SMS template name. An unknown name is an
// error.
func RenderSMS(name string, d Data) (string, error) {
	t, ok := smsTemplates[name]
	if !ok {
		return "", fmt.Errorf("render sms: unknown template %q", name)
	}
	var body bytes.Buffer
	if err := t.Execute(&body, newView(d)); err != nil {
		return "", fmt.Errorf("render sms %s: %w", name, err)
	}
	return strings.TrimSpace(body.String()), nil
}
