package notifications

import (
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRenderEmail(t *testing.T) {
	d := Data{BookingID: 12, CustomerName: "Jane", Amount: 6000, Currency: "usd",
		Reason: "sms undelivered", Detail: "ErrorCode 30003"}
	tests := []struct {
		name        string
		wantSubject string
		wantText    []string // each must appear in the text and the HTML part
	}{
		{TemplatePaymentFailed, "Payment failed for your ReserveEasy booking",
			[]string{"Hi Jane,", "Your payment failed. Please update your card.", "booking #12"}},
		{TemplateRefund, "Your deposit has been refunded",
			[]string{"Hi Jane,", "Your $60.00 deposit has been refunded", "booking #12"}},
		{TemplateCancelled, "Your ReserveEasy booking #12 was cancelled",
			[]string{"Hi Jane,", "booking #12 was cancelled because the deposit payment was not received"}},
		{TemplateConfirmationEmail, "Your ReserveEasy booking #12 is confirmed",
			[]string{"Hi Jane,", "Your booking #12 is confirmed.", "$60.00"}},
		{TemplateSupportAlert, "[ReserveEasy support] booking #12: sms undelivered",
			[]string{"Booking #12", "sms undelivered", "ErrorCode 30003", "Jane"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderEmail(tt.name, "jane@example.com", d)
			if err != nil {
				t.Fatalf("RenderEmail: %v", err)
			}
			if diff := cmp.Diff("jane@example.com", got.To); diff != "" {
				t.Errorf("To (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantSubject, got.Subject); diff != "" {
				t.Errorf("Subject (-want +got):\n%s", diff)
			}
			assertContains(t, "text", got.Text, tt.wantText...)
			assertContains(t, "html", got.HTML, tt.wantText...)
		})
	}
}

func TestRenderEmailGreeting(t *testing.T) {
	tests := []struct {
		name string
		d    Data
		want string
	}{
		{"with name", Data{BookingID: 1, CustomerName: "Jane"}, "Hi Jane,\n"},
		{"without name", Data{BookingID: 1}, "Hello,\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderEmail(TemplateCancelled, "x@example.com", tt.d)
			if err != nil {
				t.Fatalf("RenderEmail: %v", err)
			}
			if !strings.HasPrefix(got.Text, tt.want) {
				t.Errorf("text starts %q, want %q", got.Text[:min(len(got.Text), 20)], tt.want)
			}
		})
	}
}

func TestRenderEmailEscapesHTML(t *testing.T) {
	d := Data{BookingID: 7, CustomerName: "<b>", Reason: `<script>alert("x")</script>`, Detail: "a & b"}
	for _, name := range []string{TemplatePaymentFailed, TemplateRefund, TemplateCancelled,
		TemplateConfirmationEmail, TemplateSupportAlert} {
		t.Run(name, func(t *testing.T) {
			got, err := RenderEmail(name, "x@example.com", d)
			if err != nil {
				t.Fatalf("RenderEmail: %v", err)
			}
			for _, raw := range []string{"<b>", "<script>"} {
				if strings.Contains(got.HTML, raw) {
					t.Errorf("HTML contains unescaped %q:\n%s", raw, got.HTML)
				}
			}
			assertContains(t, "html", got.HTML, "&lt;b&gt;")
			assertContains(t, "text", got.Text, "<b>")
		})
	}
}

// TestRenderRefund: the refund email says how much of the deposit came
// back: all of it, a part, or the rest after earlier parts.
func TestRenderRefund(t *testing.T) {
	tests := []struct {
		name        string
		d           Data
		wantSubject string
		wantLine    string
	}{
		{"whole", Data{BookingID: 12, Amount: 6000, Of: 6000, Currency: "usd", Share: "whole"},
			"Your deposit has been refunded", "Your $60.00 deposit has been refunded for booking #12."},
		{"whole, share unset", Data{BookingID: 12, Amount: 6000, Currency: "usd"},
			"Your deposit has been refunded", "Your $60.00 deposit has been refunded for booking #12."},
		{"part", Data{BookingID: 12, Amount: 2000, Of: 6000, Currency: "usd", Share: "part"},
			"Part of your deposit has been refunded", "$20.00 of your $60.00 deposit has been refunded for booking #12."},
		{"the rest", Data{BookingID: 12, Amount: 4000, Of: 6000, Currency: "eur", Share: "the_rest"},
			"The rest of your deposit has been refunded",
			"The remaining €40.00 of your €60.00 deposit has been refunded for booking #12: your deposit is now refunded in full."},
		{"part in another currency", Data{BookingID: 3, Amount: 1500, Of: 6000, Currency: "chf", Share: "part"},
			"Part of your deposit has been refunded", "15.00 CHF of your 60.00 CHF deposit has been refunded for booking #3."},
		{"part without a currency reads as a refund", Data{BookingID: 12, Amount: 2000, Of: 6000, Share: "part"},
			"Your deposit has been refunded", "Your deposit has been refunded for booking #12."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderEmail(TemplateRefund, "jane@example.com", tt.d)
			if err != nil {
				t.Fatalf("RenderEmail: %v", err)
			}
			if diff := cmp.Diff(tt.wantSubject, got.Subject); diff != "" {
				t.Errorf("Subject (-want +got):\n%s", diff)
			}
			if lines := strings.Split(got.Text, "\n"); len(lines) < 3 || lines[2] != tt.wantLine {
				t.Errorf("text's third line, want %q:\n%s", tt.wantLine, got.Text)
			}
			assertContains(t, "html", got.HTML, tt.wantLine)
		})
	}
}

func TestRenderEmailSubjectIsOneLine(t *testing.T) {
	got, err := RenderEmail(TemplateSupportAlert, "support@example.com",
		Data{BookingID: 3, Reason: "bad\r\nBcc: evil@example.com"})
	if err != nil {
		t.Fatalf("RenderEmail: %v", err)
	}
	want := "[ReserveEasy support] booking #3: bad Bcc: evil@example.com"
	if diff := cmp.Diff(want, got.Subject); diff != "" {
		t.Errorf("Subject (-want +got):\n%s", diff)
	}
}

func TestRenderSMS(t *testing.T) {
	tests := []struct {
		name string
		d    Data
		want string
	}{
		{"with deposit", Data{BookingID: 12, CustomerName: "Jane", Amount: 6000, Currency: "usd"},
			"ReserveEasy: your booking #12 is confirmed. Deposit $60.00 received."},
		{"without currency", Data{BookingID: 12},
			"ReserveEasy: your booking #12 is confirmed."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := RenderSMS(TemplateConfirmationSMS, tt.d)
			if err != nil {
				t.Fatalf("RenderSMS: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("body (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRenderUnknownTemplate(t *testing.T) {
	tests := []struct {
		name   string
		render func() error
	}{
		{"email: unknown", func() error { _, err := RenderEmail("nope", "x@example.com", Data{}); return err }},
		{"email: sms template", func() error {
			_, err := RenderEmail(TemplateConfirmationSMS, "x@example.com", Data{})
			return err
		}},
		{"sms: unknown", func() error { _, err := RenderSMS("nope", Data{}); return err }},
		{"sms: email template", func() error { _, err := RenderSMS(TemplatePaymentFailed, Data{}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.render(); err == nil {
				t.Error("got no error, want one")
			}
		})
	}
}

func TestFormatAmount(t *testing.T) {
	tests := []struct {
		amount   int64
		currency string
		want     string
	}{
		{6000, "usd", "$60.00"},
		{6000, "USD", "$60.00"},
		{6000, "eur", "€60.00"},
		{6000, "gbp", "£60.00"},
		{6000, "jpy", "¥6000"},
		{6000, "chf", "60.00 CHF"},
		{6000, "krw", "6000 KRW"},
		{6000, "kwd", "6.000 KWD"},
		{5, "usd", "$0.05"},
		{0, "usd", "$0.00"},
		{123456789, "usd", "$1234567.89"},
		{-6000, "usd", "-$60.00"},
		{-5, "chf", "-0.05 CHF"},
		{-1500, "jpy", "-¥1500"},
		{6000, "", "60.00"},
		{math.MinInt64, "usd", "-$92233720368547758.08"},
	}
	for _, tt := range tests {
		t.Run(tt.currency+"/"+tt.want, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FormatAmount(tt.amount, tt.currency)); diff != "" {
				t.Errorf("FormatAmount(%d, %q) (-want +got):\n%s", tt.amount, tt.currency, diff)
			}
		})
	}
}

func TestMaskEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"jane.doe@example.com", "j***@example.com"},
		{"j@example.com", "j***@example.com"},
		{"élodie@example.fr", "é***@example.fr"},
		{"a@b@example.com", "a***@example.com"},
		{"@example.com", "***"},
		{"not-an-address", "***"},
		{"", "***"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, MaskEmail(tt.in)); diff != "" {
				t.Errorf("MaskEmail(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+15559876543", "+1******6543"},
		{"+447700900123", "+4*******0123"},
		{"+3312345", "+3**2345"},
		{"+331234", "*******"},
		{"12", "**"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, MaskPhone(tt.in)); diff != "" {
				t.Errorf("MaskPhone(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ada Lovelace", "A*** L***"},
		{"  Élodie   de la Tour ", "É*** d*** l*** T***"},
		{"X", "X***"},
		{"", ""},
		{" \t", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, MaskName(tt.in)); diff != "" {
				t.Errorf("MaskName(%q) (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

// assertContains reports each of wants that s does not contain.
func assertContains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

func writeTemplate(t *testing.T, dir, file, content string) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(file))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestLoadTemplatesBrandAndOverride: the brand is a setting; a file of
// the directory replaces its default, the others stay embedded.
func TestLoadTemplatesBrandAndOverride(t *testing.T) {
	dir := t.TempDir()
	writeTemplate(t, dir, "sms/booking_confirmation_sms.txt", "{{.Brand}} says: #{{.BookingID}} is on, {{.CustomerName}}.")
	ts, err := LoadTemplates(dir, "Acme Tables")
	if err != nil {
		t.Fatal(err)
	}
	d := Data{BookingID: 4, CustomerName: "Jane", Amount: 6000, Currency: "usd"}
	sms, err := ts.RenderSMS(TemplateConfirmationSMS, d)
	if err != nil || sms != "Acme Tables says: #4 is on, Jane." {
		t.Errorf("overridden SMS = %q, %v", sms, err)
	}
	m, err := ts.RenderEmail(TemplateCancelled, "x@example.com", d)
	if err != nil {
		t.Fatal(err)
	}
	if m.Subject != "Your Acme Tables booking #4 was cancelled" {
		t.Errorf("default subject with brand = %q", m.Subject)
	}
	assertContains(t, "text", m.Text, "The Acme Tables team")
	assertContains(t, "html", m.HTML, "The Acme Tables team")
	for _, part := range []string{m.Subject, m.Text, m.HTML, sms} {
		if strings.Contains(part, "ReserveEasy") {
			t.Errorf("message still says ReserveEasy: %q", part)
		}
	}
	// The defaults keep the default brand.
	if got, _ := RenderSMS(TemplateConfirmationSMS, d); !strings.HasPrefix(got, "ReserveEasy: your booking #4 is confirmed.") {
		t.Errorf("default SMS = %q", got)
	}
}

// TestLoadTemplatesBadFileNamed: a template that does not parse, one that
// cannot run on the data, and a file that is no template each stop the
// load with an error naming the file.
func TestLoadTemplatesBadFileNamed(t *testing.T) {
	for _, tt := range []struct {
		name, file, content, want string
	}{
		{"parse error", "email/payment_failed.txt", "{{define \"subject\"}}x{{end}}{{if .BookingID}}", "unexpected EOF"},
		{"unknown field", "sms/booking_confirmation_sms.txt", "{{.Nope}}", "can't evaluate field Nope"},
		{"html parse error", "email/layout.html", "{{define \"layout\"}}<p>{{.CustomerName}</p>{{end}}", "email/layout.html"},
		{"misspelt name", "sms/booking_confirmed.txt", "hi", "not a template file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeTemplate(t, dir, tt.file, tt.content)
			_, err := LoadTemplates(dir, "")
			if err == nil {
				t.Fatal("LoadTemplates accepted a bad template")
			}
			for _, want := range []string{path, tt.want} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}
	if _, err := LoadTemplates(filepath.Join(t.TempDir(), "missing"), ""); err == nil || !strings.Contains(err.Error(), "TEMPLATES_DIR") {
		t.Errorf("missing directory: err = %v, want one naming TEMPLATES_DIR", err)
	}
}

// TestTemplateFilesAreTheDefaults: TemplateFiles (documented in the README
// as TEMPLATES_DIR's file names) lists exactly the embedded files.
func TestTemplateFilesAreTheDefaults(t *testing.T) {
	var embedded []string
	err := fs.WalkDir(templateFS, "templates", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			embedded = append(embedded, strings.TrimPrefix(p, "templates/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	got := TemplateFiles()
	sort.Strings(got)
	sort.Strings(embedded)
	if diff := cmp.Diff(embedded, got); diff != "" {
		t.Errorf("TemplateFiles (-embedded +listed):\n%s", diff)
	}
}
