package verify_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/verify"
)

func TestTwilioURL(t *testing.T) {
	tests := []struct {
		name                             string
		publicBase, scheme, host, reqURI string
		want                             string
	}{
		{"from request", "", "https", "api.example.com", "/api/v1/webhooks/twilio/sms-status?x=1", "https://api.example.com/api/v1/webhooks/twilio/sms-status?x=1"},
		{"from request with port", "", "http", "localhost:8080", "/hook", "http://localhost:8080/hook"},
		{"public base", "https://api.reserveeasy.com", "http", "10.0.0.7:8080", "/hook?a=b", "https://api.reserveeasy.com/hook?a=b"},
		{"public base with trailing slash", "https://api.reserveeasy.com/", "http", "internal", "/hook", "https://api.reserveeasy.com/hook"},
		{"public base with path prefix", "https://example.com/gateway", "http", "internal", "/hook", "https://example.com/gateway/hook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verify.TwilioURL(tt.publicBase, tt.scheme, tt.host, tt.reqURI)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("TwilioURL() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseTwilioForm(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    url.Values
		wantErr error
	}{
		{"empty", "", url.Values{}, nil},
		{"plain", "MessageSid=SM1&MessageStatus=delivered", url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}}, nil},
		{"plus and escapes", "Body=hi+there%21&To=%2B1555", url.Values{"Body": {"hi there!"}, "To": {"+1555"}}, nil},
		{"empty segments and bare key", "a=1&&b", url.Values{"a": {"1"}, "b": {""}}, nil},
		{"repeated key keeps order", "a=2&a=1", url.Values{"a": {"2", "1"}}, nil},
		{"bad escape", "a=%zz", nil, verify.ErrMalformed},
		{"semicolon", "a=1;b=2", nil, verify.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verify.ParseTwilioForm([]byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseTwilioForm() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseTwilioForm() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
