// What the history handlers share: config, logging, the one write path, namespaces, long-poll
// notifications and matching. The engine builds it and hands it down, so no handler imports the
// engine that composes it.
import type { Logger } from '../common/logger.js';
import type { MatchingApi } from '../matching/api.js';
import type { NamespaceRegistry } from '../namespaces/registry.js';
import type { HistoryConfig } from './config.js';
import type { HistoryNotifier } from './notifier.js';
import type { Transactions } from './transaction.js';

export interface HistoryContext {
  readonly config: HistoryConfig;
  readonly log: Logger;
  readonly tx: Transactions;
  readonly namespaces: NamespaceRegistry;
  readonly notifier: HistoryNotifier;
  /** Matching and history need each other: the process main wires matching in after both exist. */
  readonly matching: MatchingApi;
}
