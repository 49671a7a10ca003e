package notifications

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestLogSenders(t *testing.T) {
	tests := []struct {
		name    string
		send    func(log *slog.Logger) (Receipt, error)
		raw     string            // the recipient, which must not be logged
		wantLog map[string]string // expected attributes
	}{
		{
			name: "email",
			send: func(log *slog.Logger) (Receipt, error) {
				return NewLogMailer(log).SendEmail(context.Background(),
					Email{To: "jane.doe@example.com", Subject: "Hi", Text: "Hello", HTML: "<p>Hello</p>"})
			},
			raw:     "jane.doe@example.com",
			wantLog: map[string]string{"to": "j***@example.com", "subject": "Hi", "text": "Hello"},
		},
		{
			name: "sms",
			send: func(log *slog.Logger) (Receipt, error) {
				return NewLogTexter(log).SendSMS(context.Background(),
					SMS{To: "+15559876543", Body: "Booked", StatusCallback: "https://example.com/cb"})
			},
			raw: "+15559876543",
			wantLog: map[string]string{"to": "+1******6543", "body": "Booked",
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
				gotLog[k], _ = line[k].(string)
			}
			if diff := cmp.Diff(tt.wantLog, gotLog); diff != "" {
				t.Errorf("log attributes (-want +got):\n%s", diff)
			}
			if strings.Contains(buf.String(), tt.raw) {
				t.Errorf("log shows the recipient %q: %s", tt.raw, buf.String())
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
