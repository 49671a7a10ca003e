package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLogSenders(t *testing.T) {
	tests := []struct {
		name    string
		send    func(log *slog.Logger) (Receipt, error)
		raw     []string          // the recipient and body, which must not be logged
		wantLog map[string]string // expected attributes
	}{
		{
			name: "email",
			send: func(log *slog.Logger) (Receipt, error) {
				return NewLogMailer(log).SendEmail(context.Background(),
					Email{To: "jane.doe@example.com", Subject: "Hi", Text: "Hello Jane Doe", HTML: "<p>Hello Jane Doe</p>",
						Template: "payment_failed"})
			},
			raw: []string{"jane.doe@example.com", "Jane Doe"},
			wantLog: map[string]string{"template": "payment_failed", "to": "j***@example.com", "subject": "Hi",
				"text_bytes": "14", "html_bytes": "21"},
		},
		{
			name: "sms",
			send: func(log *slog.Logger) (Receipt, error) {
				return NewLogTexter(log).SendSMS(context.Background(),
					SMS{To: "+15559876543", Body: "Booked for Jane Doe", StatusCallback: "https://example.com/cb",
						Template: "booking_confirmation_sms"})
			},
			raw: []string{"+15559876543", "Booked", "Jane Doe"},
			wantLog: map[string]string{"template": "booking_confirmation_sms", "to": "+1******6543", "body_bytes": "19",
				"status_callback": "https://example.com/cb"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			got, err := tt.send(slog.New(slog.NewJSONHandler(&buf, nil)))
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if diff := cmp.Diff(Receipt{Logged: true}, got); diff != "" {
				t.Errorf("receipt (-want +got):\n%s", diff)
			}
			line := decodeLogLine(t, buf.Bytes())
			if line["level"] != "INFO" {
				t.Errorf("level = %v, want INFO", line["level"])
			}
			gotLog := map[string]string{}
			for k := range tt.wantLog {
				gotLog[k] = fmt.Sprint(line[k])
			}
			if diff := cmp.Diff(tt.wantLog, gotLog); diff != "" {
				t.Errorf("log attributes (-want +got):\n%s", diff)
			}
			for _, raw := range tt.raw {
				if strings.Contains(buf.String(), raw) {
					t.Errorf("log shows %q: %s", raw, buf.String())
				}
			}
		})
	}
}

// decodeLogLine decodes the one JSON log line in b.
func decodeLogLine(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var line map[string]any
	if err := json.Unmarshal(b, &line); err != nil {
		t.Fatalf("decode log line %q: %v", b, err)
	}
	return line
}
