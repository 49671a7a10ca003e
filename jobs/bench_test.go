package jobs_test

import (
	"testing"
	"time"

	"github.com/reserveeasy/gateway/loadgen"
	"github.com/reserveeasy/gateway/tasks"
	"github.com/reserveeasy/gateway/verify"
)

// Micro-benchmarks of what the receiver does with a verified event besides
// the signature check: decode data.object and build the task payload
// (make bench-micro).

func benchEvent(b *testing.B) ([]byte, verify.StripeEvent) {
	b.Helper()
	body := loadgen.Generate(loadgen.Mix{Provider: loadgen.Stripe}, 1, 1)[0].Body
	ev, err := verify.DecodeStripeEvent(body)
	if err != nil {
		b.Fatal(err)
	}
	return body, ev
}

func BenchmarkDecodeStripeObject(b *testing.B) {
	_, ev := benchEvent(b)
	b.SetBytes(int64(len(ev.Object)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tasks.DecodeStripeObject(ev.Object); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewStripeTask(b *testing.B) {
	body, ev := benchEvent(b)
	obj, err := tasks.DecodeStripeObject(ev.Object)
	if err != nil {
		b.Fatal(err)
	}
	payload := tasks.StripeEvent{EventID: ev.ID, Type: ev.Type, APIVersion: ev.APIVersion, Created: ev.Created,
		ReceivedAt: time.Unix(1_700_000_000, 0).UTC(), Object: obj, Raw: body}
	b.ReportAllocs()
	var size int
	for b.Loop() {
		task, _, err := tasks.NewStripeTask(tasks.TypePaymentSucceeded, payload)
		if err != nil {
			b.Fatal(err)
		}
		size = len(task.Payload())
	}
	b.ReportMetric(float64(size), "payload-bytes")
}

func BenchmarkNewSMSStatusTask(b *testing.B) {
	ev := loadgen.Generate(loadgen.Mix{Provider: loadgen.Twilio}, 1, 1)[0]
	form, err := verify.ParseTwilioForm(ev.Body)
	if err != nil {
		b.Fatal(err)
	}
	all := map[string]string{}
	for k := range form {
		all[k] = form.Get(k)
	}
	s := tasks.SMSStatus{Token: ev.Key, MessageSID: form.Get("MessageSid"), MessageStatus: form.Get("MessageStatus"),
		To: form.Get("To"), From: form.Get("From"), ReceivedAt: time.Unix(1_700_000_000, 0).UTC(), Params: all}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := tasks.NewSMSStatusTask(s); err != nil {
			b.Fatal(err)
		}
	}
}
