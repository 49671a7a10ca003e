package jobs

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/reserveeasy/gateway/tasks"
)

// stripeEventBody is a payment_intent.succeeded event as Stripe sends it,
// with the customer in every place a PaymentIntent may carry them.
const stripeEventBody = `{
  "id": "evt_3OabcXYZ", "object": "event", "api_version": "2023-10-16", "created": 1700000000,
  "type": "payment_intent.succeeded", "livemode": false, "pending_webhooks": 1,
  "request": {"id": "req_123", "idempotency_key": "5a1f-idem"},
  "data": {"object": {
    "id": "pi_3OabcXYZ", "object": "payment_intent", "amount": 6000, "amount_received": 6000,
    "currency": "usd", "status": "succeeded", "customer": "cus_P1a2b3",
    "client_secret": "pi_3OabcXYZ_secret_s3cr3tV4lu3",
    "receipt_email": "jane.doe@example.com",
    "description": "Deposit for Jane Doe <jane.doe@example.com>, call +15559876543",
    "metadata": {"booking_id": "42", "customer_name": "Jane Doe", "customer_phone": "+15559876543"},
    "shipping": {"name": "Jane Doe", "phone": "+15559876543", "carrier": null, "tracking_number": null,
      "address": {"line1": "742 Evergreen Terrace", "line2": null, "city": "Springfield",
        "state": "OR", "postal_code": "97403", "country": "US"}},
    "payment_method": {"id": "pm_1Nxyz", "object": "payment_method", "type": "card",
      "billing_details": {"name": "Jane Doe", "email": "jane.doe@example.com", "phone": "+15559876543",
        "address": {"line1": "742 Evergreen Terrace", "city": "Springfield", "postal_code": "97403", "country": "US"}},
      "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}},
    "latest_charge": {"id": "ch_3Oabc", "object": "charge", "receipt_email": "jane.doe@example.com",
      "billing_details": {"name": "Jane Doe", "email": "jane.doe@example.com", "phone": "+15559876543"}}
  }}
}`

// personal lists what no formatted payload may show.
var personal = []string{"Jane", "Doe", "jane.doe", "+15559876543", "5559876543",
	"s3cr3tV4lu3", "Evergreen", "97403", "+15550001111"}

func stripePayload(t *testing.T) []byte {
	t.Helper()
	var ev struct {
		Data struct {
			Object json.RawMessage `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(stripeEventBody), &ev); err != nil {
		t.Fatal(err)
	}
	obj, err := tasks.DecodeStripeObject(ev.Data.Object)
	if err != nil {
		t.Fatal(err)
	}
	task, _, err := tasks.NewStripeTask(tasks.TypePaymentSucceeded, tasks.StripeEvent{EventID: "evt_3OabcXYZ",
		Type: "payment_intent.succeeded", APIVersion: "2023-10-16", Created: 1700000000,
		ReceivedAt: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), Object: obj, Raw: json.RawMessage(stripeEventBody)})
	if err != nil {
		t.Fatal(err)
	}
	return task.Payload()
}

func twilioPayload(t *testing.T) []byte {
	t.Helper()
	params := map[string]string{"MessageSid": "SM0123456789abcdef0123456789abcdef", "SmsSid": "SM0123456789abcdef0123456789abcdef",
		"MessageStatus": "undelivered", "SmsStatus": "undelivered", "To": "+15559876543", "From": "+15550001111",
		"AccountSid": "AC0123456789abcdef0123456789abcdef", "ApiVersion": "2010-04-01", "ErrorCode": "30006"}
	task, _, err := tasks.NewSMSStatusTask(tasks.SMSStatus{Token: "5a1c9d2e-8f3b-4c6a-9e1d-7b2f4a6c8e0d",
		MessageSID: params["MessageSid"], MessageStatus: "undelivered", To: params["To"], From: params["From"],
		ErrorCode: "30006", ReceivedAt: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC), Params: params})
	if err != nil {
		t.Fatal(err)
	}
	return task.Payload()
}

func TestFormatPayloadMasks(t *testing.T) {
	tests := []struct {
		name     string
		taskType string
		payload  []byte
		want     map[string]any // dotted path in the shown JSON: value
	}{
		{
			name: "stripe payment_intent.succeeded", taskType: tasks.TypePaymentSucceeded, payload: stripePayload(t),
			want: map[string]any{
				"event_id": "evt_3OabcXYZ", "type": "payment_intent.succeeded", "received_at": "2024-05-01T12:00:00Z",
				"object.id": "pi_3OabcXYZ", "object.amount": "6000", "object.metadata.booking_id": "42",
				"object.metadata.customer_name":                        "J*** D***",
				"object.metadata.customer_phone":                       "+1******6543",
				"raw.id":                                               "evt_3OabcXYZ",
				"raw.request.idempotency_key":                          "5a1f-idem",
				"raw.data.object.amount":                               "6000",
				"raw.data.object.client_secret":                        "***",
				"raw.data.object.receipt_email":                        "j***@example.com",
				"raw.data.object.description":                          "Deposit for J*** D*** <j***@example.com>, call +1******6543",
				"raw.data.object.shipping.name":                        "J*** D***",
				"raw.data.object.shipping.phone":                       "+1******6543",
				"raw.data.object.shipping.address.line1":               "***",
				"raw.data.object.shipping.address.line2":               nil,
				"raw.data.object.shipping.address.postal_code":         "***",
				"raw.data.object.shipping.address.city":                "Springfield",
				"raw.data.object.payment_method.billing_details.name":  "J*** D***",
				"raw.data.object.payment_method.billing_details.email": "j***@example.com",
				"raw.data.object.payment_method.billing_details.phone": "+1******6543",
				"raw.data.object.payment_method.card.last4":            "4242",
				"raw.data.object.latest_charge.billing_details.name":   "J*** D***",
				"raw.data.object.latest_charge.receipt_email":          "j***@example.com",
			},
		},
		{
			name: "twilio status", taskType: tasks.TypeSMSStatus, payload: twilioPayload(t),
			want: map[string]any{
				"idempotency_token": "***", "message_sid": "SM0123456789abcdef0123456789abcdef",
				"message_status": "undelivered", "to": "+1******6543", "from": "+1******1111", "error_code": "30006",
				"params.To": "+1******6543", "params.From": "+1******1111", "params.ErrorCode": "30006",
				"params.AccountSid": "AC0123456789abcdef0123456789abcdef", "params.MessageStatus": "undelivered",
			},
		},
		{
			name: "name words elsewhere, ids kept", taskType: tasks.TypePaymentFailed,
			payload: []byte(`{"shipping":{"name":"Ada Lovelace"},"id":"pi_Lovelace1","description":"For Lovelace, party of 4","note":"Ada Lovelace booked"}`),
			want: map[string]any{"shipping.name": "A*** L***", "id": "pi_Lovelace1",
				"description": "For L***, party of 4", "note": "A*** L*** booked"},
		},
		{
			name: "name in capitals elsewhere", taskType: tasks.TypePaymentFailed,
			payload: []byte(`{"billing_details":{"name":"Ada Lovelace"},"description":"ADA LOVELACE booking"}`),
			want:    map[string]any{"description": "A*** L*** booking"},
		},
		{
			name: "a one-letter name garbles nothing", taskType: tasks.TypePaymentFailed,
			payload: []byte(`{"raw":{"data":{"name":"a","amount":6000,"status":"failed"}}}`),
			want:    map[string]any{"raw.data.name": "a***", "raw.data.amount": "6000", "raw.data.status": "failed"},
		},
		{
			name: "auto-cancel", taskType: tasks.TypeAutoCancel,
			payload: []byte(`{"booking_id":7,"hold_expires_at":"2024-05-01T14:00:00Z"}`),
			want:    map[string]any{"booking_id": "7", "hold_expires_at": "2024-05-01T14:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shown := FormatPayload(tt.taskType, tt.payload)
			for _, p := range personal {
				if strings.Contains(shown, p) {
					t.Errorf("shown payload contains %q:\n%s", p, shown)
				}
			}
			v, err := decodeJSON([]byte(shown))
			if err != nil {
				t.Fatalf("shown payload is not JSON: %v\n%s", err, shown)
			}
			got := map[string]any{}
			for path := range tt.want {
				got[path] = at(v, path)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("shown fields (-want +got):\n%s\nshown: %s", diff, shown)
			}
		})
	}
}

// at returns the value at a dotted path of v, numbers as their text.
func at(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return "(missing)"
		}
		if v, ok = m[k]; !ok {
			return "(missing)"
		}
	}
	if n, ok := v.(json.Number); ok {
		return n.String()
	}
	return v
}

func TestFormatPayloadUndecodable(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"text", []byte("jane.doe@example.com +15559876543"), "(payload not shown: 33 bytes, not JSON)"},
		{"truncated JSON", []byte(`{"to":"+15559876543"`), "(payload not shown: 20 bytes, not JSON)"},
		{"data after the JSON", []byte(`{} "jane.doe@example.com"`), "(payload not shown: 25 bytes, not JSON)"},
		{"binary", []byte{0xff, 0x00, 0x01}, "(payload not shown: 3 bytes, not JSON)"},
		{"empty", nil, "(payload not shown: 0 bytes, not JSON)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, FormatPayload(tasks.TypeSMSStatus, tt.payload)); diff != "" {
				t.Errorf("FormatPayload (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFormatPayloadKeepsTask: formatting shows a copy; the task the
// worker runs keeps every value.
func TestFormatPayloadKeepsTask(t *testing.T) {
	payload := twilioPayload(t)
	before := bytes.Clone(payload)
	FormatPayload(tasks.TypeSMSStatus, payload)
	if !bytes.Equal(before, payload) {
		t.Error("FormatPayload changed the payload")
	}
	var s tasks.SMSStatus
	if err := json.Unmarshal(payload, &s); err != nil || s.To != "+15559876543" {
		t.Errorf("task payload to = %q (%v), want the raw number", s.To, err)
	}
}

// FuzzFormatPayload: any payload is shown without panicking, as JSON or as
// the placeholder, and no client_secret value of it is ever shown.
func FuzzFormatPayload(f *testing.F) {
	f.Fuzz(func(t *testing.T, payload []byte) {
		shown := FormatPayload(tasks.TypePaymentSucceeded, payload)
		in, err := decodeJSON(payload)
		if err != nil {
			if shown != undecodable(payload) {
				t.Fatalf("undecodable payload shown as %q", shown)
			}
			return
		}
		out, err := decodeJSON([]byte(shown))
		if err != nil {
			t.Fatalf("shown payload is not JSON: %v\n%s", err, shown)
		}
		var texts []string
		walkText(out, func(s string) { texts = append(texts, s) })
		walkSecrets(in, func(secret string) {
			if secret == "" || strings.Contains(secret, "*") {
				return // "***" is the mask itself
			}
			for _, s := range texts {
				if strings.Contains(s, secret) {
					t.Fatalf("client_secret %q shown in %q", secret, shown)
				}
			}
		})
	})
}

// walkText calls f with every key, string and number of v.
func walkText(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			f(k)
			walkText(x, f)
		}
	case []any:
		for _, x := range v {
			walkText(x, f)
		}
	case string:
		f(v)
	case json.Number:
		f(v.String())
	}
}

// walkSecrets calls f with every string value of a client_secret field.
func walkSecrets(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && strings.EqualFold(k, "client_secret") {
				f(s)
			}
			walkSecrets(x, f)
		}
	case []any:
		for _, x := range v {
			walkSecrets(x, f)
		}
	}
}
