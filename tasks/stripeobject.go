package tasks

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// ErrNotAnObject means data.object of a Stripe event is not a JSON object.
var ErrNotAnObject = errors.New("data.object is not a JSON object")

// DecodeStripeObject reads the fields the workers need from a
// PaymentIntent or a Charge, tolerantly, so that no signed event is refused
// for its shape: an expandable field (payment_intent) may be an id or an
// expanded object, metadata values any JSON scalar, amounts numbers or
// numeric strings; unknown and ill-typed fields are ignored. It fails only
// when raw is not a JSON object.
func DecodeStripeObject(raw json.RawMessage) (StripeObject, error) {
	var f map[string]json.RawMessage
	if err := json.Unmarshal(raw, &f); err != nil || f == nil {
		return StripeObject{}, ErrNotAnObject
	}
	o := StripeObject{
		ID:             str(f["id"]),
		Object:         str(f["object"]),
		Amount:         num(f["amount"]),
		AmountReceived: num(f["amount_received"]),
		AmountRefunded: num(f["amount_refunded"]),
		Refunded:       boolean(f["refunded"]),
		Currency:       strings.ToLower(str(f["currency"])),
		PaymentIntent:  expandableID(f["payment_intent"]),
		Metadata:       metadata(f["metadata"]),
	}
	var lastErr map[string]json.RawMessage
	if json.Unmarshal(f["last_payment_error"], &lastErr) == nil && lastErr != nil {
		o.FailureMessage = str(lastErr["message"])
		if o.FailureMessage == "" {
			o.FailureMessage = str(lastErr["code"])
		}
	}
	return o, nil
}

// str reads a JSON string, or "" for anything else.
func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// boolean reads a JSON true, or false for anything else.
func boolean(raw json.RawMessage) bool {
	var b bool
	return json.Unmarshal(raw, &b) == nil && b
}

// num reads a JSON integer or a numeric string, or 0.
func num(raw json.RawMessage) int64 {
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return 0
	}
	if i, err := strconv.ParseInt(n.String(), 10, 64); err == nil {
		return i
	}
	return 0
}

// expandableID reads an expandable field: an id, or an object with an id.
func expandableID(raw json.RawMessage) string {
	if s := str(raw); s != "" {
		return s
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		return str(obj["id"])
	}
	return ""
}

// metadata reads Stripe metadata, turning scalar values into strings.
func metadata(raw json.RawMessage) map[string]string {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if s := str(v); s != "" {
			out[k] = s
			continue
		}
		var scalar any
		if json.Unmarshal(v, &scalar) == nil && scalar != nil {
			switch scalar.(type) {
			case float64, bool:
				out[k] = strings.TrimSpace(string(v))
			}
		}
	}
	return out
}
