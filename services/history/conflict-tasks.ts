// The transfer tasks conflict resolution leaves (DESIGN invariant 5). Like every task they run only
// where the namespace is active (a passive region parks them until it is promoted), so the user
// input of a losing branch or run is written once, by the region that may write, at its version.
import { enums } from '../common/temporal.js';
import type { HistoryTask } from '../persistence/types.js';
import type { HistoryEngine } from './engine.js';
import { isSignal, isUserInput, reapplyUserInput } from './events-reapplier.js';
import type { MutableState } from './mutable-state.js';
import type { HistoryEvent } from './state.js';
import type { TaskAttrs } from './tasks.js';

/** 'reapplyEvents': the user input of a fork that lost, written again on the current branch. */
export async function reapplyLosingBranch(engine: HistoryEngine, task: HistoryTask, a: TaskAttrs): Promise<void> {
  const run = await engine.tx.read(task.namespaceId, task.workflowId, task.runId);
  const input = (await engine.tx.readBranchEvents(run, a.branchId!, a.firstEventId!, a.nextEventId!)).filter(isUserInput);
  if (input.length === 0) return;
  // A run closed since (e.g. as a duplicate run) passes its input on to the workflow's current run.
  const target = run.isRunning ? run : await engine.tx.read(task.namespaceId, task.workflowId, '');
  await reapplyTo(engine, target, input, task.runId);
}

/**
 * 'resolveDuplicateRun': two running runs of one workflow id (each region started one while they
 * were apart). The one whose last write has the higher version keeps running; the other is
 * terminated, then its signals (all in its history once it is closed; later ones reach the
 * current run as a losing branch) are reapplied to the winner. A retry after a crash between the
 * two finds the loser closed by this resolver and reapplies again, which changes nothing twice.
 */
export async function resolveDuplicateRun(engine: HistoryEngine, task: HistoryTask, a: TaskAttrs): Promise<void> {
  const runs = await Promise.all([
    engine.tx.read(task.namespaceId, task.workflowId, task.runId),
    engine.tx.read(task.namespaceId, task.workflowId, a.otherRunId!),
  ]);
  let [winner, loser] = outranks(runs[0], runs[1]) ? runs : [runs[1], runs[0]];
  if (!winner.isRunning || !loser.isRunning) {
    const closedHere = await Promise.all(runs.map((r) => closedByResolver(engine, r)));
    if (closedHere[0] === closedHere[1]) return;
    [loser, winner] = closedHere[0] ? runs : [runs[1], runs[0]];
    if (!winner.isRunning) return;
  } else {
    const ns = await engine.tx.namespaces.requireById(task.namespaceId);
    const reason = `duplicate run of workflow ${task.workflowId}: run ${winner.info.runId} (version ${winner.info.lastWriteVersion}) keeps running, this one (version ${loser.info.lastWriteVersion}) is closed; its signals are reapplied there`;
    await engine.terminateRun({ id: ns.id, name: ns.name }, task.workflowId, loser.info.runId, reason, RESOLVER);
    loser = await engine.tx.read(task.namespaceId, task.workflowId, loser.info.runId);
  }
  const signals = (await engine.tx.readAllEvents(loser, 1, loser.info.nextEventId)).filter(isSignal);
  if (signals.length > 0) await reapplyTo(engine, winner, signals, loser.info.runId);
}

/** The identity of the terminations this resolver writes. */
const RESOLVER = 'tandem-conflict-resolution';

async function closedByResolver(engine: HistoryEngine, run: MutableState): Promise<boolean> {
  if (run.isRunning || run.info.status !== enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED) return false;
  const close = await engine.tx.readEvent(run, run.info.completionEventId);
  return close?.workflowExecutionTerminatedEventAttributes?.identity === RESOLVER;
}

async function reapplyTo(engine: HistoryEngine, winner: MutableState, events: HistoryEvent[], originRunId: string): Promise<void> {
  const { namespaceId, workflowId, runId } = winner.key;
  await engine.tx.update(namespaceId, workflowId, runId, (ms, now) => {
    reapplyUserInput(ms, events, originRunId, now, engine.scheduler);
  });
}

/** Higher last write version wins; then the higher start version; then the run id, so both regions pick the same. */
function outranks(x: MutableState, y: MutableState): boolean {
  const key = (m: MutableState) => [BigInt(m.info.lastWriteVersion), BigInt(m.info.startVersion)] as const;
  const [xl, xs] = key(x);
  const [yl, ys] = key(y);
  if (xl !== yl) return xl > yl;
  if (xs !== ys) return xs > ys;
  return x.info.runId > y.info.runId;
}
