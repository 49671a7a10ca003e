package verify_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/twilio/twilio-go/client"

	"github.com/reserveeasy/gateway/verify"
)

const formType = "application/x-www-form-urlencoded"

// Twilio's documented example (https://www.twilio.com/docs/usage/security).
const (
	docToken = "12345"
	docURL   = "https://mycompany.com/myapp.php?foo=1&bar=2"
	docSig   = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="
)

func docParams() url.Values {
	return url.Values{
		"CallSid": {"CA1234567890ABCDE"},
		"Caller":  {"+12349013030"},
		"Digits":  {"1234"},
		"From":    {"+12349013030"},
		"To":      {"+18005551212"},
	}
}

// hmacSHA1 signs data the way Twilio does, independently of the package.
func hmacSHA1(t *testing.T, token, data string) string {
	t.Helper()
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(data))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func sha256Hex(body string) string {
	sum := sha256.Sum256([]byte(body))
	return hex.EncodeToString(sum[:])
}

func TestSignTwilioKnownAnswer(t *testing.T) {
	if got := verify.SignTwilio(docToken, docURL, docParams()); got != docSig {
		t.Errorf("SignTwilio(documented example) = %q, want %q", got, docSig)
	}
}

// TestSignTwilioMatchesTwilioGo cross-checks SignTwilio against twilio-go's
// own validator for requests without repeated keys.
func TestSignTwilioMatchesTwilioGo(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		params url.Values
	}{
		{"documented example", docURL, docParams()},
		{"no params", "https://example.com/hook", url.Values{}},
		{"prefix keys", "https://example.com/hook", url.Values{"Reason": {"a"}, "ReasonConferenceEnded": {"b"}}},
		{"unicode and spaces", "https://example.com/h?x=1", url.Values{"Body": {"héllo wörld ✓"}, "From": {"+1 555"}}},
		{"empty value", "http://example.com:8080/h", url.Values{"Empty": {""}, "A": {"1"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sig := verify.SignTwilio("tok", tt.url, tt.params)
			single := map[string]string{}
			for k, v := range tt.params {
				single[k] = v[0]
			}
			rv := client.NewRequestValidator("tok")
			if !rv.Validate(tt.url, single, sig) {
				t.Errorf("twilio-go rejects SignTwilio's %q", sig)
			}
		})
	}
}

func TestTwilio(t *testing.T) {
	docBody := docParams().Encode()
	// Repeated keys: Twilio appends every value, values sorted.
	repURL := "https://example.com/hook"
	repBody := "To=%2B1&Addr=%2B1855&Addr=%2B1833&Addr=%2B1855"
	repSig := hmacSHA1(t, "tok", repURL+"Addr+1833Addr+1855Addr+1855To+1")
	// What twilio-go would compute: one value per key.
	repSigOneValue := hmacSHA1(t, "tok", repURL+"Addr+1855To+1")
	// Body and hash from Twilio's documented JSON example (its token is not
	// published, so the URL is signed here).
	jsonBody := `{"CallSid":"CA1234567890ABCDE","Caller":"+12349013030"}`
	jsonHash := "5ccde7145dfb8f56479710896586cb9d5911809d83afbe34627818790db0aec9"
	jsonURL := "https://example.com/myapp?bodySHA256=" + jsonHash
	jsonSig := hmacSHA1(t, docToken, jsonURL)

	tests := []struct {
		name    string
		req     verify.TwilioRequest
		tokens  []string
		want    url.Values
		wantErr error
	}{
		{
			name:   "documented example",
			req:    verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: formType, Body: []byte(docBody)},
			tokens: []string{docToken},
			want:   docParams(),
		},
		{
			name:   "content type with charset",
			req:    verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: formType + "; charset=utf-8", Body: []byte(docBody)},
			tokens: []string{docToken},
			want:   docParams(),
		},
		{
			name:   "no content type",
			req:    verify.TwilioRequest{URL: docURL, Signature: docSig, Body: []byte(docBody)},
			tokens: []string{docToken},
			want:   docParams(),
		},
		{
			name:   "unparsable content type parameters",
			req:    verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: "Application/X-WWW-Form-Urlencoded; charset", Body: []byte(docBody)},
			tokens: []string{docToken},
			want:   docParams(),
		},
		{
			name:   "second token (rotation)",
			req:    verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: formType, Body: []byte(docBody)},
			tokens: []string{"old-token", docToken},
			want:   docParams(),
		},
		{
			name:    "no tokens",
			req:     verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: formType, Body: []byte(docBody)},
			wantErr: verify.ErrNoSecret,
		},
		{
			name:    "only blank tokens",
			req:     verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: formType, Body: []byte(docBody)},
			tokens:  []string{"", ""},
			wantErr: verify.ErrNoSecret,
		},
		{
			name:    "missing signature",
			req:     verify.TwilioRequest{URL: docURL, ContentType: formType, Body: []byte(docBody)},
			tokens:  []string{docToken},
			wantErr: verify.ErrMissingSignature,
		},
		{
			name:    "wrong token",
			req:     verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: formType, Body: []byte(docBody)},
			tokens:  []string{"54321"},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:    "tampered param",
			req:     verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: formType, Body: []byte(docBody + "&Extra=1")},
			tokens:  []string{docToken},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:    "tampered value",
			req:     verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: formType, Body: []byte("CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1235&From=%2B12349013030&To=%2B18005551212")},
			tokens:  []string{docToken},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:    "tampered url",
			req:     verify.TwilioRequest{URL: "https://mycompany.com/myapp.php?foo=1&bar=3", Signature: docSig, ContentType: formType, Body: []byte(docBody)},
			tokens:  []string{docToken},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:    "tampered signature",
			req:     verify.TwilioRequest{URL: docURL, Signature: "1/KCTR6DLpKmkAf8muzZqo1nDgQ=", ContentType: formType, Body: []byte(docBody)},
			tokens:  []string{docToken},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:   "url signed with default port, received without",
			req:    verify.TwilioRequest{URL: docURL, Signature: verify.SignTwilio(docToken, "https://mycompany.com:443/myapp.php?foo=1&bar=2", docParams()), ContentType: formType, Body: []byte(docBody)},
			tokens: []string{docToken},
			want:   docParams(),
		},
		{
			name:   "url signed without port, received with default port",
			req:    verify.TwilioRequest{URL: "https://mycompany.com:443/myapp.php?foo=1&bar=2", Signature: docSig, ContentType: formType, Body: []byte(docBody)},
			tokens: []string{docToken},
			want:   docParams(),
		},
		{
			name:   "url with other port, signed with it",
			req:    verify.TwilioRequest{URL: "http://localhost:8080/hook", Signature: verify.SignTwilio(docToken, "http://localhost:8080/hook", docParams()), ContentType: formType, Body: []byte(docBody)},
			tokens: []string{docToken},
			want:   docParams(),
		},
		{
			name:    "url with wrong port",
			req:     verify.TwilioRequest{URL: "https://mycompany.com:8443/myapp.php?foo=1&bar=2", Signature: verify.SignTwilio(docToken, "https://mycompany.com:9443/myapp.php?foo=1&bar=2", docParams()), ContentType: formType, Body: []byte(docBody)},
			tokens:  []string{docToken},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:   "repeated params",
			req:    verify.TwilioRequest{URL: repURL, Signature: repSig, ContentType: formType, Body: []byte(repBody)},
			tokens: []string{"tok"},
			want:   url.Values{"To": {"+1"}, "Addr": {"+1855", "+1833", "+1855"}},
		},
		{
			name:   "repeated params, signed with default port",
			req:    verify.TwilioRequest{URL: repURL, Signature: hmacSHA1(t, "tok", "https://example.com:443/hook"+"Addr+1833Addr+1855Addr+1855To+1"), ContentType: formType, Body: []byte(repBody)},
			tokens: []string{"other", "tok"},
			want:   url.Values{"To": {"+1"}, "Addr": {"+1855", "+1833", "+1855"}},
		},
		{
			name:   "repeated params, IPv6 host signed with default port",
			req:    verify.TwilioRequest{URL: "https://[2001:db8::1]/hook", Signature: hmacSHA1(t, "tok", "https://[2001:db8::1]:443/hook"+"Addr+1833Addr+1855Addr+1855To+1"), ContentType: formType, Body: []byte(repBody)},
			tokens: []string{"tok"},
			want:   url.Values{"To": {"+1"}, "Addr": {"+1855", "+1833", "+1855"}},
		},
		{
			name:   "repeated params, signed without the port received",
			req:    verify.TwilioRequest{URL: "https://example.com:443/hook", Signature: repSig, ContentType: formType, Body: []byte(repBody)},
			tokens: []string{"tok"},
			want:   url.Values{"To": {"+1"}, "Addr": {"+1855", "+1833", "+1855"}},
		},
		{
			name:    "repeated params, one value signed",
			req:     verify.TwilioRequest{URL: repURL, Signature: repSigOneValue, ContentType: formType, Body: []byte(repBody)},
			tokens:  []string{"tok"},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:    "repeated params, value dropped",
			req:     verify.TwilioRequest{URL: repURL, Signature: repSig, ContentType: formType, Body: []byte("To=%2B1&Addr=%2B1855&Addr=%2B1833")},
			tokens:  []string{"tok"},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:   "json body with bodySHA256",
			req:    verify.TwilioRequest{URL: jsonURL, Signature: jsonSig, ContentType: "application/json", Body: []byte(jsonBody)},
			tokens: []string{docToken},
			want:   url.Values{"bodySHA256": {jsonHash}},
		},
		{
			name:    "json body tampered",
			req:     verify.TwilioRequest{URL: jsonURL, Signature: jsonSig, ContentType: "application/json", Body: []byte(`{"CallSid":"CA1234567890ABCDF","Caller":"+12349013030"}`)},
			tokens:  []string{docToken},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:    "json body and hash both replaced",
			req:     verify.TwilioRequest{URL: "https://example.com/myapp?bodySHA256=" + sha256Hex("{}"), Signature: jsonSig, ContentType: "application/json", Body: []byte("{}")},
			tokens:  []string{docToken},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:    "json body without bodySHA256, signed",
			req:     verify.TwilioRequest{URL: "https://example.com/myapp", Signature: verify.SignTwilio(docToken, "https://example.com/myapp", nil), ContentType: "application/json", Body: []byte(jsonBody)},
			tokens:  []string{docToken},
			wantErr: verify.ErrMalformed,
		},
		{
			name:    "json body without bodySHA256, forged",
			req:     verify.TwilioRequest{URL: "https://example.com/myapp", Signature: jsonSig, ContentType: "application/json", Body: []byte(jsonBody)},
			tokens:  []string{docToken},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:    "undecodable form, signed",
			req:     verify.TwilioRequest{URL: docURL, Signature: verify.SignTwilio(docToken, docURL, nil), ContentType: formType, Body: []byte("CallSid=%zz")},
			tokens:  []string{docToken},
			wantErr: verify.ErrMalformed,
		},
		{
			name:    "undecodable form, signed over what could be read",
			req:     verify.TwilioRequest{URL: docURL, Signature: verify.SignTwilio(docToken, docURL, url.Values{"To": {"+1"}}), ContentType: formType, Body: []byte("To=%2B1&CallSid=%zz")},
			tokens:  []string{docToken},
			wantErr: verify.ErrMalformed,
		},
		{
			name:    "undecodable form, forged",
			req:     verify.TwilioRequest{URL: docURL, Signature: docSig, ContentType: formType, Body: []byte("CallSid=%zz")},
			tokens:  []string{docToken},
			wantErr: verify.ErrInvalidSignature,
		},
		{
			name:    "unparsable url",
			req:     verify.TwilioRequest{URL: "https://exa mple.com/%zz", Signature: docSig, ContentType: formType, Body: []byte(docBody)},
			tokens:  []string{docToken},
			wantErr: verify.ErrMalformed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := verify.Twilio(tt.req, tt.tokens)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Twilio() error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Twilio() params mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
