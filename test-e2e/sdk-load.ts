// A bounded load from the official TypeScript client, kept as the client saw it: every start and
// signal the server acknowledged, and when. After an outage a test compares this ledger with what
// a region holds: an acknowledged write that is missing is a loss; the times say whether the loss
// lies inside the replication lag the failover measured.
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import type { Client } from '@temporalio/client';
import { enums, historyv1 } from '../services/common/temporal.js';

export interface LoadedRun {
  workflowId: string;
  runId: string;
  startedAckMs: number;
  /** Times at which an `add` signal of 1 was acknowledged. */
  addAcksMs: number[];
  /** `add` signals sent, acknowledged or not (a call cut short may still have been applied). */
  addsSent: number;
  /** `done` was acknowledged: the run should complete with the sum of its adds. */
  doneAck: boolean;
}

export interface LoadOptions {
  taskQueue: string;
  prefix: string;
  /** The load stops at whichever bound comes first. */
  durationMs: number;
  maxStarts: number;
  /** Adds sent to open runs after each start. */
  addsPerStart?: number;
}

/** The `add` signals a run's history holds. */
export function addsIn(events: historyv1.IHistoryEvent[]): number {
  return events.filter((e) => historyv1.HistoryEvent.fromObject(e).workflowExecutionSignaledEventAttributes?.signalName === 'add').length;
}

/** A run's result (the sum of the adds it got) counts every acknowledged add once, and no add never sent. */
export function assertSignalsCounted(run: LoadedRun, result: number, what = 'every acknowledged signal counted once'): void {
  assert.ok(result >= run.addAcksMs.length && result <= run.addsSent, `${run.workflowId}: ${what}: result ${result}, ${run.addAcksMs.length} acknowledged of ${run.addsSent} sent`);
}

export class SdkLoad {
  readonly runs = new Map<string, LoadedRun>();
  private readonly stopping = new AbortController();
  /** Calls refused or cut short (not acknowledged, so not counted). */
  failures = 0;

  constructor(private readonly client: Client) {
    // Every call in flight listens on it; a load has many over its life.
    setMaxListeners(0, this.stopping.signal);
  }

  /** Ends a load in progress: calls in flight are abandoned and count as not acknowledged. */
  stop(): void {
    this.stopping.abort();
  }

  open(): LoadedRun[] {
    return [...this.runs.values()].filter((r) => !r.doneAck);
  }

  /** Starts waitForSignals runs and signals open ones until a bound is reached or stop() is called. */
  async run(o: LoadOptions): Promise<void> {
    const deadline = Date.now() + o.durationMs;
    for (let i = 0; i < o.maxStarts && Date.now() < deadline && !this.stopping.signal.aborted; i++) {
      const workflowId = `${o.prefix}-${i}`;
      const started = await this.acknowledged(() => this.client.workflow.start('waitForSignals', { workflowId, taskQueue: o.taskQueue }));
      if (started) this.runs.set(workflowId, { workflowId, runId: started.value.firstExecutionRunId, startedAckMs: Date.now(), addAcksMs: [], addsSent: 0, doneAck: false });
      const open = this.open();
      for (let k = 0; k < (o.addsPerStart ?? 2) && open.length > 0; k++) await this.add(open[(i * 7 + k) % open.length]!);
    }
  }

  async add(run: LoadedRun): Promise<void> {
    run.addsSent++;
    if (await this.acknowledged(() => this.client.workflow.getHandle(run.workflowId, run.runId).signal('add', 1))) run.addAcksMs.push(Date.now());
  }

  async finish(run: LoadedRun): Promise<void> {
    await this.client.workflow.getHandle(run.workflowId, run.runId).signal('done');
    run.doneAck = true;
  }

  /**
   * Sends `done` to every open run and checks each run's result counts its signals right: every
   * run completes, none lost, no signal counted twice. Runs in parallel (hundreds after a drill).
   */
  async finishAll(withinMs = 180_000): Promise<void> {
    await Promise.all(this.open().map((run) => this.finish(run)));
    const stuck: LoadedRun[] = [];
    await Promise.all(
      [...this.runs.values()].map(async (run) => {
        const result = await this.client.connection.withDeadline(Date.now() + withinMs, () => this.client.workflow.getHandle(run.workflowId, run.runId).result()).catch((err: unknown) => {
          if (!(err instanceof Error) || !/deadline/i.test(`${err.message} ${String(err.cause)}`)) throw err;
          stuck.push(run);
          return undefined;
        });
        if (result !== undefined) assertSignalsCounted(run, result as number);
      }),
    );
    // A run that never completes is a lost task or signal: say which and where it stands, not hang.
    if (stuck.length > 0) throw new Error(`${stuck.length} of ${this.runs.size} runs did not complete within ${withinMs} ms: ${(await Promise.all(stuck.slice(0, 5).map((r) => this.whereIs(r)))).join('; ')}`);
  }

  private async whereIs(run: LoadedRun): Promise<string> {
    const handle = this.client.workflow.getHandle(run.workflowId, run.runId);
    try {
      const d = await handle.describe();
      const events = (await handle.fetchHistory()).events ?? [];
      const tail = events.slice(-6).map((e) => `${e.eventId}:${enums.EventType[historyv1.HistoryEvent.fromObject(e).eventType]}`);
      const pending = d.raw.pendingWorkflowTask;
      return `${run.workflowId} ${d.status.name} pendingWorkflowTask=${pending ? `${pending.state} attempt ${pending.attempt}` : 'none'} events ${tail.join(' ')}`;
    } catch (err) {
      return `${run.workflowId}: describe failed: ${(err as Error).message}`;
    }
  }

  /** The call's answer when the server acknowledged it; undefined when it failed or the load stopped first. */
  private async acknowledged<T>(call: () => Promise<T>): Promise<{ value: T } | undefined> {
    if (this.stopping.signal.aborted) return undefined;
    try {
      return { value: await this.client.connection.withAbortSignal(this.stopping.signal, call) };
    } catch {
      this.failures++;
      return undefined;
    }
  }
}
