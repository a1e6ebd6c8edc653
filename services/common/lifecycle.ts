/** Every service and every store-backed worker loop has the same two-call lifecycle. */
export interface Service {
  /** Resolves when the service is ready to serve. */
  start(): Promise<void>;
  /** Graceful: stop taking work (health NOT_SERVING), drain what is in flight, then close. */
  stop(): Promise<void>;
}

/** Starts services in order and stops them in reverse; a failed start stops what started. */
export class ServiceGroup implements Service {
  private readonly started: Service[] = [];
  constructor(private readonly services: Service[]) {}

  async start(): Promise<void> {
    for (const s of this.services) {
      try {
        await s.start();
      } catch (err) {
        await this.stop();
        throw err;
      }
      this.started.push(s);
    }
  }

  async stop(): Promise<void> {
    while (this.started.length > 0) {
      const s = this.started.pop()!;
      await s.stop();
    }
  }
}

/**
 * The reason to pass to abort() on hot paths (every long poll ends with one): without a reason
 * abort() builds a DOMException and captures its stack. Nothing here reads a signal's reason.
 */
export const ENDED: unknown = Object.freeze({ name: 'AbortError', message: 'ended' });

/** Resolves after ms, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
