package reconcile

import (
	"context"
	"errors"

	"github.com/reserveeasy/gateway/tasks"
)

// holds queues the auto-cancel of every unpaid payment_pending booking
// whose hold expired more than Options.HoldGrace ago and was never cancelled: the
// scheduled task was lost (a Redis without persistence) or never ran. It
// is the same task, under the same id: the worker applies the same rule
// and email, and a scheduled copy that still fires changes nothing.
func (r *Reconciler) holds(ctx context.Context, o Options) Report {
	rep := Report{Source: SourceHolds}
	bs, err := r.c.Store.ExpiredHolds(ctx, r.c.Now().Add(-o.HoldGrace))
	if err != nil {
		rep.Err = err
		return rep
	}
	var errs []error
	for _, b := range bs {
		r.checked(&rep)
		a := tasks.AutoCancel{BookingID: b.ID, HoldExpiresAt: b.HoldExpiresAt}
		task, err := tasks.NewAutoCancelTask(a)
		if err == nil {
			log := r.c.Log.With("component", "reconcile", "source", SourceHolds, "booking_id", b.ID, "hold_expires_at", b.HoldExpiresAt)
			err = r.missing(ctx, &rep, o.DryRun, tasks.AutoCancelTaskID(a), task, log)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	rep.Err = errors.Join(errs...)
	return rep
}
