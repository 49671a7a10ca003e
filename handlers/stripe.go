package handlers

import (
	"fmt"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/reserveeasy/gateway/metrics"
	"github.com/reserveeasy/gateway/tasks"
	"github.com/reserveeasy/gateway/verify"
)

var stripeOK = map[string]bool{"received": true}

// stripe receives Stripe payment events: capped body, verify, queue, 200.
func (w *webhooks) stripe(c echo.Context) error {
	start := time.Now()
	outcome, err := w.acceptStripe(c)
	return w.answer(c, "stripe", start, outcome, stripeOK, err)
}

func (w *webhooks) acceptStripe(c echo.Context) (string, error) {
	body, err := w.readBody(c)
	if err != nil {
		return "", err
	}
	if len(w.cfg.StripeSecrets) == 0 {
		w.d.Log.Error("rejecting Stripe webhook: STRIPE_WEBHOOK_SECRET is not set")
	}
	ev, err := verify.Stripe(body, c.Request().Header.Get("Stripe-Signature"),
		w.cfg.StripeSecrets, w.cfg.StripeTolerance, w.d.Now())
	if err != nil {
		return "", err
	}
	if m := w.cfg.StripeLivemode; m != nil && ev.Livemode != *m {
		w.d.Log.Warn("ignoring Stripe event of the other mode (STRIPE_LIVEMODE)", "provider", "stripe",
			"event_id", ev.ID, "type", ev.Type, "livemode", ev.Livemode)
		return metrics.OutcomeIgnored, nil
	}
	taskType, ok := tasks.StripeTaskType(ev.Type)
	if !ok {
		w.d.Log.Warn("ignoring unhandled Stripe event type", "provider", "stripe", "event_id", ev.ID, "type", ev.Type)
		return metrics.OutcomeIgnored, nil
	}
	obj, err := tasks.DecodeStripeObject(ev.Object)
	if err != nil {
		return "", &badRequest{msg: "data.object is not a JSON object"}
	}
	task, id, err := tasks.NewStripeTask(taskType, tasks.StripeEvent{
		EventID: ev.ID, Type: ev.Type, APIVersion: ev.APIVersion, Created: ev.Created,
		ReceivedAt: w.d.Now().UTC(), Object: obj, Raw: body,
	})
	if err != nil {
		return "", fmt.Errorf("build task: %w", err)
	}
	dup, err := w.enqueue(id, task)
	if err != nil {
		return "", err
	}
	w.d.Log.Info("stripe event queued", "provider", "stripe", "event_id", ev.ID, "task_id", id, "type", ev.Type, "duplicate", dup)
	return queued(dup), nil
}
