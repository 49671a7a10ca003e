package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/reserveeasy/gateway/opsview"
	"github.com/reserveeasy/gateway/tasks"
)

// runReplay moves archived tasks back to pending so the workers run them
// again. Applying an event is exactly-once (webhook_events), so replaying a
// task whose event was already applied changes nothing.
func runReplay(ctx context.Context, e *env, args []string) error {
	fs := e.flags("replay", "usage: gateway replay (--event ID | --type TASK_TYPE | --all) [--dry-run]\n\nRun archived tasks again (the same as 'Run' in the ops UI's Archived tab).")
	event := fs.String("event", "", "replay the task of this event id (evt_..., or a Twilio key)")
	typ := fs.String("type", "", "replay archived tasks of this task type, e.g. stripe:payment_succeeded")
	all := fs.Bool("all", false, "replay every archived task")
	dry := fs.Bool("dry-run", false, "list what would be replayed")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if count(*event != "", *typ != "", *all) != 1 {
		fs.Usage()
		return fmt.Errorf("replay: give exactly one of --event, --type or --all")
	}
	t, err := openTools(ctx, e, true)
	if err != nil {
		return err
	}
	defer t.Close()
	in := t.inspector()
	defer in.Close()
	n := 0
	for _, q := range []string{tasks.QueueWebhooks, tasks.QueueHolds} {
		tasks, err := archived(in, q)
		if err != nil {
			return err
		}
		for _, ti := range tasks {
			if !matches(ti, *event, *typ) {
				continue
			}
			fmt.Fprintf(e.stdout, "replay %s %s (failed %d times: %s)\n", ti.Type, ti.ID, ti.Retried+1, ti.LastErr)
			if !*dry {
				if err := in.RunTask(q, ti.ID); err != nil {
					return fmt.Errorf("replay %s: %w", ti.ID, err)
				}
			}
			n++
		}
	}
	if n == 0 && *event != "" {
		fmt.Fprintln(e.stdout, whyNotReplayed(in, *event))
	}
	fmt.Fprintf(e.stdout, "%d task(s) %s\n", n, map[bool]string{true: "would be replayed", false: "queued again"}[*dry])
	return nil
}

// whyNotReplayed says why the event's task is not among the archived
// ones: in which state it is, or that Redis does not have it.
func whyNotReplayed(in *asynq.Inspector, event string) string {
	for _, q := range []string{tasks.QueueWebhooks, tasks.QueueHolds} {
		for _, id := range []string{tasks.StripeTaskID(event), tasks.TwilioTaskID(event), event} {
			ti, err := in.GetTaskInfo(q, id)
			if err != nil {
				continue
			}
			switch ti.State {
			case asynq.TaskStateCompleted:
				return fmt.Sprintf("%s is completed, not archived: nothing to replay (applying it again would change nothing)", event)
			case asynq.TaskStateRetry:
				return fmt.Sprintf("%s is retrying, not archived: nothing to replay (next attempt %s; gateway inspect %s)", event, opsview.Stamp(ti.NextProcessAt), event)
			default:
				return fmt.Sprintf("%s is %s, not archived: nothing to replay (it runs on its own)", event, ti.State)
			}
		}
	}
	return fmt.Sprintf("%s has no task in Redis: nothing to replay (never queued under this id, or completed more than %s ago; gateway inspect %s)", event, completedRetention, event)
}

// archived lists every archived task of a queue.
func archived(in *asynq.Inspector, q string) ([]*asynq.TaskInfo, error) {
	var out []*asynq.TaskInfo
	for page := 1; ; page++ {
		ts, err := in.ListArchivedTasks(q, asynq.Page(page), asynq.PageSize(500))
		if err != nil {
			if errors.Is(err, asynq.ErrQueueNotFound) {
				return out, nil
			}
			return nil, fmt.Errorf("list archived tasks of %s: %w", q, err)
		}
		out = append(out, ts...)
		if len(ts) < 500 {
			return out, nil
		}
	}
}

func matches(ti *asynq.TaskInfo, event, typ string) bool {
	switch {
	case event != "":
		return ti.ID == tasks.StripeTaskID(event) || ti.ID == tasks.TwilioTaskID(event) || ti.ID == event
	case typ != "":
		return ti.Type == typ
	}
	return true
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}
