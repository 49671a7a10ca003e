package handlers

import (
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/reserveeasy/gateway/jobs"
	"github.com/reserveeasy/gateway/verify"
)

var twilioOK = map[string]string{"status": "received"}

// twilio receives SMS status callbacks: capped body, verify, queue, 200.
func (w *webhooks) twilio(c echo.Context) error {
	start := time.Now()
	outcome, err := w.acceptTwilio(c)
	return w.answer(c, "twilio", start, outcome, twilioOK, err)
}

func (w *webhooks) acceptTwilio(c echo.Context) (string, error) {
	body, err := w.readBody(c)
	if err != nil {
		return "", err
	}
	if len(w.cfg.TwilioTokens) == 0 {
		w.d.Log.Error("rejecting Twilio webhook: TWILIO_AUTH_TOKEN is not set")
	}
	r := c.Request()
	params, err := verify.Twilio(verify.TwilioRequest{
		URL:         verify.TwilioURL(w.cfg.PublicBaseURL, c.Scheme(), r.Host, r.URL.RequestURI()),
		Signature:   r.Header.Get("X-Twilio-Signature"),
		ContentType: r.Header.Get("Content-Type"),
		Body:        body,
	}, w.cfg.TwilioTokens)
	if err != nil {
		return "", err
	}
	sid, status := params.Get("MessageSid"), params.Get("MessageStatus")
	if sid == "" || status == "" {
		return "", &badRequest{msg: "MessageSid and MessageStatus are required"}
	}
	all := make(map[string]string, len(params))
	for k := range params {
		all[k] = params.Get(k)
	}
	s := jobs.SMSStatus{
		MessageSID: sid, MessageStatus: status, Token: r.Header.Get("I-Twilio-Idempotency-Token"),
		To: params.Get("To"), From: params.Get("From"),
		ErrorCode: params.Get("ErrorCode"), ReceivedAt: w.d.Now().UTC(), Params: all,
	}
	task, id, err := jobs.NewSMSStatusTask(s)
	if err != nil {
		return "", fmt.Errorf("build task: %w", err)
	}
	// The task id is the signed sid and status; the unsigned token only
	// adds a guard: seen before, it makes a duplicate.
	var guards []string
	if s.Token != "" {
		guards = append(guards, jobs.TwilioTokenGuard(s.Token))
	}
	dup, err := w.enqueue(id, task, guards...)
	if err != nil {
		return "", err
	}
	w.d.Log.Info("twilio callback queued", "provider", "twilio", "event_id", s.EventID(), "task_id", id, "message_sid", sid, "status", status, "duplicate", dup)
	return queued(dup), nil
}
