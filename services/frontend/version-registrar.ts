// A worker deployment version exists once one of its pollers polled: each versioned poll checks
// the (cached) namespace record and registers its version and task queue when missing. Workers
// poll all the time, so a failed write is retried only after a pause, and the poll never waits.
import type { Logger } from '../common/logger.js';
import { enums } from '../common/temporal.js';
import type { NamespaceRef } from '../history/api.js';
import { polledVersion } from '../matching/versioning.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import { isRegistered, registerVersion, withWorkerDeployments, workerDeployments } from '../namespaces/worker-deployments.js';

type DeploymentOptions = Parameters<typeof polledVersion>[0];

const RETRY_AFTER_MS = 10_000;
/** Past it, the attempts older than RETRY_AFTER_MS are dropped. */
const MAX_ATTEMPTS_KEPT = 10_000;

export class VersionRegistrar {
  /** Last write attempt per (namespace, queue, type, version). */
  private readonly attempts = new Map<string, number>();

  constructor(
    private readonly namespaces: NamespaceRegistry,
    private readonly log: Logger,
  ) {}

  /** A worker's sticky queue is its own, not one its version serves. */
  notePoll(ns: NamespaceRef, queue: { name?: string | null; kind?: number | null }, type: 1 | 2, options: DeploymentOptions): void {
    const version = polledVersion(options);
    if (!version || !queue.name || queue.kind === enums.TaskQueueKind.TASK_QUEUE_KIND_STICKY) return;
    const taskQueue = queue.name;
    const tq = { name: taskQueue, type };
    this.namespaces
      .requireById(ns.id)
      .then((rec) => {
        if (isRegistered(workerDeployments(rec), version.deploymentName, version.buildId, tq)) return;
        const key = [ns.id, taskQueue, type, version.deploymentName, version.buildId].join('\u0000');
        const now = Date.now();
        if (now - (this.attempts.get(key) ?? -Infinity) < RETRY_AFTER_MS) return;
        this.remember(key, now);
        return this.namespaces.update(ns.name, (current) =>
          withWorkerDeployments(current, (all) => registerVersion(all, version.deploymentName, version.buildId, tq, Date.now())),
        );
      })
      .catch((err: unknown) => this.log.warn({ err, namespace: ns.name, taskQueue, ...version }, 'worker deployment version not registered'));
  }

  private remember(key: string, now: number): void {
    if (this.attempts.size >= MAX_ATTEMPTS_KEPT) {
      for (const [k, at] of this.attempts) if (now - at >= RETRY_AFTER_MS) this.attempts.delete(k);
    }
    this.attempts.set(key, now);
  }
}
