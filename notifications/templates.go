package notifications

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path"
	"path/filepath"
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
	Brand   string // BRAND_NAME, default DefaultBrand
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

// DefaultBrand is the brand name the messages sign with when BRAND_NAME is
// unset.
const DefaultBrand = "ReserveEasy"

// emailNames and smsNames are the templates there are.
var (
	emailNames = []string{TemplateConfirmationEmail, TemplatePaymentFailed,
		TemplateCancelled, TemplateRefund, TemplateSupportAlert}
	smsNames = []string{TemplateConfirmationSMS}
)

// TemplateFiles are the files of a template directory (TEMPLATES_DIR), as
// paths inside it: email/NAME.txt (text/template: defines "subject", its
// body is the plain-text part), email/NAME.html (html/template: defines
// "content", filled into "layout"), the shared email/partials.txt and
// email/layout.html ("greeting", "signature", "layout"), and sms/NAME.txt.
func TemplateFiles() []string {
	files := []string{"email/layout.html", "email/partials.txt"}
	for _, n := range emailNames {
		files = append(files, "email/"+n+".txt", "email/"+n+".html")
	}
	for _, n := range smsNames {
		files = append(files, "sms/"+n+".txt")
	}
	return files
}

// emailTemplate is one email: the text template defines "subject" and its
// body is the plain-text part; the HTML one fills the shared layout.
type emailTemplate struct {
	text *texttemplate.Template
	html *htmltemplate.Template
}

// Templates are the message templates: the embedded defaults, each
// possibly replaced by a file of a template directory. Parsed once, never
// changed: safe for concurrent use.
type Templates struct {
	brand  string
	emails map[string]emailTemplate
	sms    map[string]*texttemplate.Template
}

// defaults are the embedded templates with DefaultBrand.
var defaults = func() *Templates {
	t, err := LoadTemplates("", DefaultBrand)
	if err != nil {
		panic(err)
	}
	return t
}()

// DefaultTemplates are the embedded templates, signed DefaultBrand.
func DefaultTemplates() *Templates { return defaults }

// LoadTemplates parses the embedded templates, each replaced by the file
// of the same path in dir (see TemplateFiles) when dir is not "" and has
// one; brand is what {{.Brand}} shows ("" is DefaultBrand). Every template
// is rendered once with sample data, so that a template that cannot
// execute (an unknown field, say) fails here. An error names the file: a
// file of dir that is not a template, or one that does not parse or run.
func LoadTemplates(dir, brand string) (*Templates, error) {
	if strings.TrimSpace(brand) == "" {
		brand = DefaultBrand
	}
	src := source{dir: dir}
	if dir != "" {
		if err := src.check(); err != nil {
			return nil, err
		}
	}
	t := &Templates{brand: brand, emails: map[string]emailTemplate{}, sms: map[string]*texttemplate.Template{}}
	for _, name := range emailNames {
		text := texttemplate.New("").Option("missingkey=error")
		for _, f := range []string{"email/partials.txt", "email/" + name + ".txt"} {
			if err := src.parseText(text, f); err != nil {
				return nil, err
			}
		}
		html := htmltemplate.New("").Option("missingkey=error")
		for _, f := range []string{"email/layout.html", "email/" + name + ".html"} {
			if err := src.parseHTML(html, f); err != nil {
				return nil, err
			}
		}
		t.emails[name] = emailTemplate{text: text, html: html}
	}
	for _, name := range smsNames {
		text := texttemplate.New("").Option("missingkey=error")
		if err := src.parseText(text, "sms/"+name+".txt"); err != nil {
			return nil, err
		}
		t.sms[name] = text
	}
	if err := t.tryAll(src); err != nil {
		return nil, err
	}
	return t, nil
}

// source reads a template file from dir, else from the embedded defaults.
type source struct{ dir string }

func (s source) read(file string) (content []byte, where string, err error) {
	if s.dir != "" {
		where = filepath.Join(s.dir, filepath.FromSlash(file))
		b, err := os.ReadFile(where)
		if err == nil {
			return b, where, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, where, fmt.Errorf("template %s: %w", where, err)
		}
	}
	b, err := templateFS.ReadFile("templates/" + file)
	return b, "embedded " + file, err
}

// check refuses a file in dir that is no template (a misspelt name would
// otherwise be ignored without a word) and an unreadable dir.
func (s source) check() error {
	known := map[string]bool{}
	for _, f := range TemplateFiles() {
		known[f] = true
	}
	if st, err := os.Stat(s.dir); err != nil {
		return fmt.Errorf("TEMPLATES_DIR: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("TEMPLATES_DIR: %s is not a directory", s.dir)
	}
	return filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("TEMPLATES_DIR: %w", err)
		}
		rel, _ := filepath.Rel(s.dir, path)
		rel = filepath.ToSlash(rel)
		switch {
		case d.IsDir() || strings.HasPrefix(d.Name(), "."):
			return nil
		case !known[rel]:
			return fmt.Errorf("template %s: not a template file (want one of %s)", path, strings.Join(TemplateFiles(), ", "))
		}
		return nil
	})
}

func (s source) parseText(t *texttemplate.Template, file string) error {
	b, where, err := s.read(file)
	if err == nil {
		_, err = t.New(path.Base(file)).Parse(string(b))
	}
	if err != nil {
		return fmt.Errorf("template %s: %w", where, err)
	}
	return nil
}

func (s source) parseHTML(t *htmltemplate.Template, file string) error {
	b, where, err := s.read(file)
	if err == nil {
		_, err = t.New(path.Base(file)).Parse(string(b))
	}
	if err != nil {
		return fmt.Errorf("template %s: %w", where, err)
	}
	return nil
}

// samples are the data the templates are tried with at load: every
// branch the defaults have (names, deposits, refund shares).
var samples = []Data{
	{BookingID: 1, CustomerName: "Jane", Amount: 6000, Currency: "usd", Reason: "sms undelivered", Detail: "ErrorCode 30003"},
	{BookingID: 2},
	{BookingID: 3, Amount: 2000, Of: 6000, Currency: "eur", Share: "part"},
	{BookingID: 4, Amount: 4000, Of: 6000, Currency: "gbp", Share: "the_rest"},
}

// tryAll renders every template with each sample; an error names the
// files the failing message is made of.
func (t *Templates) tryAll(src source) error {
	where := func(files ...string) string {
		var ws []string
		for _, f := range files {
			_, w, _ := src.read(f)
			ws = append(ws, w)
		}
		return strings.Join(ws, ", ")
	}
	for _, d := range samples {
		for _, name := range emailNames {
			if _, err := t.RenderEmail(name, "x@example.com", d); err != nil {
				return fmt.Errorf("template %s: does not render: %w",
					where("email/"+name+".txt", "email/partials.txt", "email/"+name+".html", "email/layout.html"), err)
			}
		}
		for _, name := range smsNames {
			if _, err := t.RenderSMS(name, d); err != nil {
				return fmt.Errorf("template %s: does not render: %w", where("sms/"+name+".txt"), err)
			}
		}
	}
	return nil
}

// Brand is the brand name the templates show.
func (t *Templates) Brand() string { return t.brand }

// RenderEmail renders the default email template name (see
// Templates.RenderEmail).
func RenderEmail(name string, to string, d Data) (Email, error) {
	return defaults.RenderEmail(name, to, d)
}

// RenderSMS renders the default SMS template name (see Templates.RenderSMS).
func RenderSMS(name string, d Data) (string, error) { return defaults.RenderSMS(name, d) }

// RenderEmail renders the email template name for the recipient to. The
// plain-text part comes from text/template, the HTML part from
// html/template, which escapes the data. An unknown name is an error.
func (t *Templates) RenderEmail(name string, to string, d Data) (Email, error) {
	et, ok := t.emails[name]
	if !ok {
		return Email{}, fmt.Errorf("render email: unknown template %q", name)
	}
	v := t.view(d)
	var subject, text, html bytes.Buffer
	if err := et.text.ExecuteTemplate(&subject, "subject", v); err != nil {
		return Email{}, fmt.Errorf("render email %s subject: %w", name, err)
	}
	if err := et.text.ExecuteTemplate(&text, name+".txt", v); err != nil {
		return Email{}, fmt.Errorf("render email %s text: %w", name, err)
	}
	if err := et.html.ExecuteTemplate(&html, "layout", v); err != nil {
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
func (t *Templates) RenderSMS(name string, d Data) (string, error) {
	st, ok := t.sms[name]
	if !ok {
		return "", fmt.Errorf("render sms: unknown template %q", name)
	}
	var body bytes.Buffer
	if err := st.ExecuteTemplate(&body, name+".txt", t.view(d)); err != nil {
		return "", fmt.Errorf("render sms %s: %w", name, err)
	}
	return strings.TrimSpace(body.String()), nil
}

func (t *Templates) view(d Data) view {
	v := newView(d)
	v.Brand = t.brand
	return v
}
