package handlers

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/reserveeasy/gateway/tasks"
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
	checked := verify.TwilioURL(w.cfg.PublicBaseURL, c.Scheme(), r.Host, r.URL.RequestURI())
	params, err := verify.Twilio(verify.TwilioRequest{
		URL:         checked,
		Signature:   r.Header.Get("X-Twilio-Signature"),
		ContentType: r.Header.Get("Content-Type"),
		Body:        body,
	}, w.cfg.TwilioTokens)
	if err != nil {
		return "", w.explainTwilio(err, checked)
	}
	sid, status := params.Get("MessageSid"), params.Get("MessageStatus")
	if sid == "" || status == "" {
		return "", &badRequest{msg: "MessageSid and MessageStatus are required"}
	}
	all := make(map[string]string, len(params))
	for k := range params {
		all[k] = params.Get(k)
	}
	s := tasks.SMSStatus{
		MessageSID: sid, MessageStatus: status, Token: r.Header.Get("I-Twilio-Idempotency-Token"),
		To: params.Get("To"), From: params.Get("From"),
		ErrorCode: params.Get("ErrorCode"), ReceivedAt: w.d.Now().UTC(), Params: all,
	}
	task, id, err := tasks.NewSMSStatusTask(s)
	if err != nil {
		return "", fmt.Errorf("build task: %w", err)
	}
	// The task id is the signed sid and status; the unsigned token only
	// adds a guard: seen before, it makes a duplicate.
	var guards []string
	if s.Token != "" {
		guards = append(guards, tasks.TwilioTokenGuard(s.Token))
	}
	dup, err := w.enqueue(id, task, guards...)
	if err != nil {
		return "", err
	}
	w.d.Log.Info("twilio callback queued", "provider", "twilio", "event_id", s.EventID(), "task_id", id, "message_sid", sid, "status", status, "duplicate", dup)
	return queued(dup), nil
}

// explainTwilio adds to a signature failure what an operator needs to find
// its cause in the log: the URL checked (its user info redacted; it holds
// no secret otherwise), whether PUBLIC_BASE_URL is set, and a hint.
func (w *webhooks) explainTwilio(err error, checked string) error {
	var hint string
	public := w.cfg.PublicBaseURL != ""
	switch {
	case errors.Is(err, verify.ErrNoSecret):
		hint = "TWILIO_AUTH_TOKEN is not set: set it to the auth token of the Twilio account sending the callbacks"
	case errors.Is(err, verify.ErrMissingSignature):
		hint = "the request has no X-Twilio-Signature header: it does not come from Twilio"
	case !errors.Is(err, verify.ErrInvalidSignature):
		return err
	case public:
		hint = "Twilio signs the exact URL it calls: the StatusCallback (or the number's webhook) must be this url, scheme, host and port included, i.e. PUBLIC_BASE_URL followed by the path; if it is, TWILIO_AUTH_TOKEN is not the sending account's auth token (keep a rotated one beside the new one, comma-separated)"
	default:
		hint = "PUBLIC_BASE_URL is unset, so the url checked is the scheme and Host this gateway received: behind a tunnel, proxy or load balancer (https outside, http here, or another host) set PUBLIC_BASE_URL to the base URL Twilio calls; otherwise TWILIO_AUTH_TOKEN is not the sending account's auth token"
	}
	shown := checked
	if u, perr := url.Parse(checked); perr == nil {
		shown = u.Redacted()
	}
	return &explained{err: err, attrs: []any{"url", shown, "public_base_url_set", public, "hint", hint}}
}
