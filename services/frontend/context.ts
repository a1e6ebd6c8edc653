// What every handler gets: the frontend's dependencies, its config, and per-call context.
import type { Logger } from '../common/logger.js';
import type { HistoryApi, NamespaceRef } from '../history/api.js';
import type { MatchingApi } from '../matching/api.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import { assertActive } from '../namespaces/active.js';
import type { Persistence } from '../persistence/store.js';
import type { NamespaceRecord } from '../persistence/types.js';
import type { FrontendConfig } from './config.js';
import { requireString } from './validation.js';

export interface FrontendDeps {
  persistence: Persistence;
  namespaces: NamespaceRegistry;
  history: HistoryApi;
  matching: MatchingApi;
  logger: Logger;
}

export interface CallContext {
  method: string;
  /**
   * Aborts `marginMs` before the client's deadline, after at most capMs, on client cancellation,
   * or when the server stops: what long polls hand to history and matching.
   */
  longPoll(capMs: number): AbortSignal;
}

/**
 * How a call uses its namespace. 'read' calls are served by any region (the standby keeps full
 * state); 'worker' calls must reach the active region; 'write' calls also wait out a handover.
 */
export type NamespaceAccess = 'read' | 'worker' | 'write';

// Handlers take the decoded request class; each declares its own request type.
export type Handler = (req: any, call: CallContext) => Promise<object>;
export type Handlers = Record<string, Handler>;

export class FrontendContext {
  constructor(
    readonly config: FrontendConfig,
    readonly deps: FrontendDeps,
  ) {}

  get history(): HistoryApi {
    return this.deps.history;
  }

  get matching(): MatchingApi {
    return this.deps.matching;
  }

  get namespaces(): NamespaceRegistry {
    return this.deps.namespaces;
  }

  async namespaceRecord(name: string | null | undefined, access: NamespaceAccess): Promise<NamespaceRecord> {
    const rec = await this.deps.namespaces.requireByName(requireString(name, 'Namespace', this.config));
    if (access === 'read') return rec;
    assertActive(rec, this.config.region, access);
    return rec;
  }

  async namespace(name: string | null | undefined, access: NamespaceAccess): Promise<NamespaceRef> {
    const rec = await this.namespaceRecord(name, access);
    return { id: rec.id, name: rec.name };
  }
}
