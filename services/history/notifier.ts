// Wakes long polls (GetWorkflowExecutionHistory with waitNewEvent, update waits) when a workflow
// gets new events. Callers subscribe BEFORE they read the state, so a write that lands between
// the read and the wait still wakes them.
export interface Subscription {
  /** Resolves true on a change, false when the signal aborts first. */
  wait(signal: AbortSignal): Promise<boolean>;
  cancel(): void;
}

export class HistoryNotifier {
  private readonly subscribers = new Map<string, Set<() => void>>();

  notify(namespaceId: string, workflowId: string): void {
    const k = `${namespaceId}/${workflowId}`;
    const set = this.subscribers.get(k);
    if (!set) return;
    this.subscribers.delete(k);
    for (const wake of set) wake();
  }

  subscribe(namespaceId: string, workflowId: string): Subscription {
    const k = `${namespaceId}/${workflowId}`;
    let changed = false;
    let resolveWait: ((v: boolean) => void) | null = null;
    const wake = () => {
      changed = true;
      resolveWait?.(true);
    };
    let set = this.subscribers.get(k);
    if (!set) this.subscribers.set(k, (set = new Set()));
    set.add(wake);
    const cancel = () => {
      const s = this.subscribers.get(k);
      s?.delete(wake);
      if (s && s.size === 0) this.subscribers.delete(k);
    };
    return {
      cancel,
      wait: (signal) => {
        if (changed) return Promise.resolve(true);
        if (signal.aborted) {
          cancel();
          return Promise.resolve(false);
        }
        return new Promise<boolean>((resolve) => {
          const abort = () => {
            cancel();
            resolve(false);
          };
          resolveWait = (v) => {
            signal.removeEventListener('abort', abort);
            resolve(v);
          };
          signal.addEventListener('abort', abort, { once: true });
        });
      },
    };
  }
}
