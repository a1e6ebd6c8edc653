// Matching's metrics. The sync-match rate of a queue is computed from tasks_added_total:
//   sum by (task_queue) (rate(tandem_matching_tasks_added_total{match="sync"}[5m]))
//     / sum by (task_queue) (rate(tandem_matching_tasks_added_total[5m]))
import { counter, gauge, histogram, type Registry } from '../common/metrics.js';

export type TaskTypeLabel = 'workflow' | 'activity';

export function taskTypeLabel(type: 1 | 2): TaskTypeLabel {
  return type === 1 ? 'workflow' : 'activity';
}

/** Labels that name one task queue. */
export type QueueLabels = {
  namespace_id: string;
  task_queue: string;
  task_type: TaskTypeLabel;
};

export class MatchingMetrics {
  readonly tasksAdded;
  readonly tasksDropped;
  readonly backlog;
  readonly scheduleToStart;
  readonly polls;

  constructor(registry: Registry) {
    const queue = ['namespace_id', 'task_queue', 'task_type'];
    this.tasksAdded = counter(
      registry,
      'tandem_matching_tasks_added_total',
      'Tasks added to matching; match=sync went straight to a waiting poller, match=backlog was queued.',
      [...queue, 'match'],
    );
    this.tasksDropped = counter(
      registry,
      'tandem_matching_tasks_dropped_total',
      'Tasks that left a queue without being started: reason=stale (history no longer wants it), expired, or rerouted (moved to the version the routing now sends it to).',
      [...queue, 'reason'],
    );
    this.backlog = gauge(
      registry,
      'tandem_matching_backlog_tasks',
      'Tasks waiting for a poller in a loaded task queue (a hint: unread older backlog counts once read).',
      queue,
    );
    this.scheduleToStart = histogram(
      registry,
      'tandem_matching_schedule_to_start_seconds',
      'Time from a task being added to matching to history recording it as started.',
      ['task_type'],
    );
    this.polls = counter(
      registry,
      'tandem_matching_polls_total',
      'Completed polls: result=task got a task, result=empty timed out, was cancelled or was shut down.',
      [...queue, 'result'],
    );
  }
}
