// One region's own copy of a namespace, read through that region's frontend with Temporal's
// `xdc-redirection: false`, so the region answers from its local store instead of forwarding to
// the active region; writes sent that way succeed only where the namespace is active. The
// connection has no retry interceptor: a refusal comes back at once, as the region gave it.
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import type { oneActivity } from './workflows.js';

const NOT_FOUND = 5;
/** temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT (the package's enums are CommonJS). */
const CLOSE_EVENT = 2;
const POLL_AGAIN_MS = 20;

export class RegionCopy {
  private constructor(
    readonly region: string,
    readonly connection: Connection,
    readonly client: Client,
    private readonly namespace: string,
  ) {}

  static async connect(region: string, address: string, namespace: string): Promise<RegionCopy> {
    const connection = await Connection.connect({ address, metadata: { 'xdc-redirection': 'false' }, interceptors: [] });
    return new RegionCopy(region, connection, new Client({ connection, namespace }), namespace);
  }

  /**
   * Resolves when this region's copy of the workflow's current run holds its close event, as a
   * long poll on the region's history (woken by the write or the replicated apply); a run the region
   * does not hold yet is asked for again every 20 ms. Returns the close event's type.
   */
  async closed(workflowId: string, signal: AbortSignal): Promise<number> {
    for (;;) {
      signal.throwIfAborted();
      try {
        const res = await this.connection.withAbortSignal(signal, () =>
          this.connection.workflowService.getWorkflowExecutionHistory({
            namespace: this.namespace,
            execution: { workflowId },
            waitNewEvent: true,
            historyEventFilterType: CLOSE_EVENT,
          }),
        );
        const close = res.history?.events?.at(-1);
        if (close?.eventType) return Number(close.eventType);
      } catch (err) {
        if (!(isGrpcServiceError(err) && err.code === NOT_FOUND)) throw err;
        await new Promise((r) => setTimeout(r, POLL_AGAIN_MS));
      }
    }
  }

  /** Every event of the workflow's current run in this region's copy (type and version per event id), and the run id. */
  async history(workflowId: string): Promise<{ runId: string; events: string[] }> {
    const run = await this.connection.workflowService.describeWorkflowExecution({ namespace: this.namespace, execution: { workflowId } });
    const runId = run.workflowExecutionInfo?.execution?.runId ?? '';
    const events: string[] = [];
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await this.connection.workflowService.getWorkflowExecutionHistory({ namespace: this.namespace, execution: { workflowId, runId }, nextPageToken });
      for (const e of page.history?.events ?? []) events.push(`${String(e.eventId)}@${String(e.version)}:${String(e.eventType)}`);
      nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
    } while (nextPageToken);
    return { runId, events };
  }

  /** Starts the bench workflow here, no retry: throws NamespaceNotActive while the region is passive. */
  async start(workflowId: string, taskQueue: string, n: number): Promise<string> {
    const handle = await this.client.workflow.start<typeof oneActivity>('oneActivity', { taskQueue, workflowId, args: [n] });
    return handle.firstExecutionRunId;
  }

  close(): Promise<void> {
    return this.connection.close();
  }
}
