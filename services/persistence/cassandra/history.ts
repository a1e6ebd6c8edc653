// A run's history tree on Cassandra (schema.cql: history_node, history_tree). Events are written
// with plain inserts before the fenced batch that commits them, one partition per branch, so the
// shard's partition never holds them; the rules of ../history-tree.ts keep the rows of a write
// that did not commit out of every read.
import { forkPoint, readBranch, startsAtStoredEnd, type BranchRange } from '../history-tree.js';
import type { HistoryAppend, HistoryEventRow, ReadHistoryRequest } from '../types.js';
import { big, fromBlob, num, toBlob, type Db, type Row, type Stmt } from './db.js';

/** Rows fetched per page beyond the events asked for: room for a few orphans without a second page. */
const PAGE_SLACK = 16;
/** The largest page, so a read of a long history holds at most this many rows at a time. */
const MAX_PAGE = 1000;

export class CassandraHistory {
  private readonly node: string;
  private readonly tree: string;

  constructor(private readonly db: Db) {
    this.node = db.t('history_node');
    this.tree = db.t('history_tree');
  }

  /**
   * Writes an append's events as one unlogged batch in its branch's partition and, when `list`,
   * the branch's history_tree row beside it. No condition: the fenced batch that follows decides.
   */
  async write({ branch, events }: HistoryAppend, list: boolean): Promise<void> {
    const writes: Promise<unknown>[] = [];
    if (list) {
      writes.push(
        this.db.execute(`INSERT INTO ${this.tree} (tree_id, branch_id, ancestors) VALUES (?, ?, ?)`, [
          branch.treeId,
          branch.branchId,
          JSON.stringify(branch.ancestors),
        ]),
      );
    }
    if (events.length > 0) {
      writes.push(
        this.db.batch(
          events.map((e) => ({
            query: `INSERT INTO ${this.node} (tree_id, branch_id, node_id, txn_id, version, data) VALUES (?, ?, ?, ?, ?, ?)`,
            params: [branch.treeId, branch.branchId, BigInt(e.eventId), e.taskId, e.version, toBlob(e.data)],
          })),
        ),
      );
    }
    await Promise.all(writes);
  }

  /**
   * Deletes the rows of a write whose batch was refused, and with `unlist` the branch's
   * history_tree row. The task id is the write's own, so no other write's row goes; a writer that
   * expected a stale nextEventId may have put them below the committed one, where they would
   * otherwise shadow committed events.
   */
  async discard({ branch, events }: HistoryAppend, unlist: boolean): Promise<void> {
    const deletes: Promise<unknown>[] = [];
    if (events.length > 0) {
      const stmts: Stmt[] = events.map((e) => ({
        query: `DELETE FROM ${this.node} WHERE tree_id = ? AND branch_id = ? AND node_id = ? AND txn_id = ?`,
        params: [branch.treeId, branch.branchId, BigInt(e.eventId), e.taskId],
      }));
      deletes.push(this.db.batch(stmts));
    }
    if (unlist) deletes.push(this.db.execute(`DELETE FROM ${this.tree} WHERE tree_id = ? AND branch_id = ?`, [branch.treeId, branch.branchId]));
    await Promise.all(deletes);
  }

  read({ branch, minEventId, maxEventId, limit }: ReadHistoryRequest): Promise<HistoryEventRow[]> {
    const rows = ({ branchId, min, max }: BranchRange, want: number) =>
      mapRows(
        this.db.rows(
          `SELECT node_id, txn_id, version, data FROM ${this.node} WHERE tree_id = ? AND branch_id = ? AND node_id >= ? AND node_id < ?`,
          [branch.treeId, branchId, BigInt(min), BigInt(max)],
          { fetchSize: Math.min(want + PAGE_SLACK, MAX_PAGE) },
        ),
      );
    return readBranch(branch, minEventId, maxEventId, limit, rows);
  }

  /** Every branch partition of the tree (one partition tombstone each), then the listing. */
  async deleteTree(treeId: string): Promise<void> {
    const branches = await this.db.all(`SELECT branch_id FROM ${this.tree} WHERE tree_id = ?`, [treeId]);
    await Promise.all(
      branches.map((b) => this.db.execute(`DELETE FROM ${this.node} WHERE tree_id = ? AND branch_id = ?`, [treeId, b.get('branch_id') as string])),
    );
    await this.db.execute(`DELETE FROM ${this.tree} WHERE tree_id = ?`, [treeId]);
  }
}

/**
 * Whether an update's append may put the first row in its branch's partition, which history_tree
 * must then list: a branch's first append starts at its fork point, and an append that does not
 * continue the stored branch goes to another one. Appends continuing the stored branch skip it.
 */
export function mayStartBranch(append: HistoryAppend, expectedNextEventId: number): boolean {
  return append.events[0]?.eventId === forkPoint(append.branch) || !startsAtStoredEnd(append, expectedNextEventId);
}

async function* mapRows(rows: AsyncIterable<Row>): AsyncGenerator<HistoryEventRow> {
  for await (const r of rows) {
    yield { eventId: num(r.get('node_id')), version: big(r.get('version')), taskId: big(r.get('txn_id')), data: fromBlob(r.get('data') as Buffer | null) };
  }
}
