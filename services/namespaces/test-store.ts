// A map-backed NamespaceStore for unit tests, until the SQLite store lands.
import { ConditionFailedError, NamespaceAlreadyExistsError } from '../persistence/errors.js';
import type { NamespaceStore } from '../persistence/store.js';
import type { NamespaceRecord } from '../persistence/types.js';

export class MemoryNamespaceStore implements NamespaceStore {
  readonly rows = new Map<string, NamespaceRecord>();
  reads = 0;

  async createNamespace(ns: NamespaceRecord): Promise<void> {
    if ([...this.rows.values()].some((r) => r.name === ns.name || r.id === ns.id)) {
      throw new NamespaceAlreadyExistsError(ns.name);
    }
    this.rows.set(ns.id, structuredClone(ns));
  }
  async getNamespaceByName(name: string): Promise<NamespaceRecord | null> {
    this.reads++;
    const r = [...this.rows.values()].find((x) => x.name === name);
    return r ? structuredClone(r) : null;
  }
  async getNamespaceById(id: string): Promise<NamespaceRecord | null> {
    this.reads++;
    const r = this.rows.get(id);
    return r ? structuredClone(r) : null;
  }
  async listNamespaces(): Promise<NamespaceRecord[]> {
    this.reads++;
    return [...this.rows.values()].map((r) => structuredClone(r));
  }
  async updateNamespace(ns: NamespaceRecord, expected: bigint): Promise<void> {
    const cur = this.rows.get(ns.id);
    if (!cur || cur.notificationVersion !== expected) throw new ConditionFailedError(`namespace ${ns.name} moved on`);
    this.rows.set(ns.id, structuredClone(ns));
  }
}
