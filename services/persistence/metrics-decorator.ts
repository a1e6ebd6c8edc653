// A Persistence that times every call of the one it wraps. It sits in the process mains, so the
// stores stay free of metrics and both implementations are measured the same way. Every method
// of every store is wrapped through a Proxy, so one added to an interface is timed without a change.
import { counter, histogram, type Registry } from '../common/metrics.js';
import {
  ConditionFailedError,
  CurrentWorkflowConditionFailedError,
  HistoryConflictError,
  NamespaceAlreadyExistsError,
  ShardOwnershipLostError,
  StoreUnavailableError,
} from './errors.js';
import type { Persistence } from './store.js';

/**
 * ok; conflict: a conditional write found another version (expected under contention);
 * fenced: the shard moved to another owner; unavailable: the store could not answer;
 * error: anything else, including a HistoryConflictError: a writer tried to rewrite committed
 * history, which no contention explains, so it counts where the error alerts look.
 */
export type PersistenceOutcome = 'ok' | 'conflict' | 'fenced' | 'unavailable' | 'error';

export function outcomeOf(err: unknown): PersistenceOutcome {
  if (err instanceof ShardOwnershipLostError) return 'fenced';
  if (err instanceof HistoryConflictError) return 'error';
  if (err instanceof ConditionFailedError || err instanceof CurrentWorkflowConditionFailedError || err instanceof NamespaceAlreadyExistsError) {
    return 'conflict';
  }
  if (err instanceof StoreUnavailableError) return 'unavailable';
  return 'error';
}

const STORES = ['shards', 'executions', 'namespaces', 'visibility', 'taskQueues', 'clusterMetadata', 'identity'] as const;

export function withPersistenceMetrics(inner: Persistence, registry: Registry): Persistence {
  const latency = histogram(registry, 'tandem_persistence_latency_seconds', 'Persistence call latency by store, operation and outcome', [
    'store',
    'operation',
    'outcome',
  ]);
  const errors = counter(registry, 'tandem_persistence_errors_total', 'Persistence calls that did not succeed, by outcome', ['store', 'operation', 'outcome']);

  const instrument = <T extends object>(target: T, store: string): T => {
    const wrapped = new Map<PropertyKey, unknown>();
    return new Proxy(target, {
      get(t, prop) {
        const value: unknown = Reflect.get(t, prop, t);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        let fn = wrapped.get(prop);
        if (!fn) {
          const operation = prop;
          fn = async (...args: unknown[]) => {
            const end = latency.startTimer({ store, operation });
            try {
              const result: unknown = await (value as (...a: unknown[]) => unknown).apply(t, args);
              end({ outcome: 'ok' });
              return result;
            } catch (err) {
              const outcome = outcomeOf(err);
              end({ outcome });
              errors.inc({ store, operation, outcome });
              throw err;
            }
          };
          wrapped.set(prop, fn);
        }
        return fn;
      },
    });
  };

  const stores = Object.fromEntries(STORES.map((s) => [s, instrument(inner[s], s)])) as Pick<Persistence, (typeof STORES)[number]>;
  return {
    kind: inner.kind,
    ...stores,
    close: () => inner.close(),
  };
}
