// A run's history tree on SQLite: history_tree lists its branches, history_node holds their events
// keyed by (branch, event id, task id of the write), read by the rules of ../history-tree.ts.
// Appends run inside the caller's transaction, so a batch that fails leaves no orphan here.
import type Database from 'better-sqlite3';
import { HistoryConflictError } from '../errors.js';
import { readBranch, type BranchRange } from '../history-tree.js';
import type { HistoryAppend, HistoryEventRow, ReadHistoryRequest } from '../types.js';
import { blob, num } from './codec.js';

interface NodeRow {
  node_id: bigint;
  txn_id: bigint;
  version: bigint;
  data: Buffer;
}

export class SqliteHistory {
  private readonly stmt;

  constructor(db: Database.Database) {
    this.stmt = {
      listBranch: db.prepare(
        `INSERT INTO history_tree (tree_id, branch_id, ancestors) VALUES (@treeId, @branchId, @ancestors) ON CONFLICT DO NOTHING`,
      ),
      insertNode: db.prepare(
        `INSERT INTO history_node (tree_id, branch_id, node_id, txn_id, version, data)
         VALUES (@treeId, @branchId, @nodeId, @txnId, @version, @data) ON CONFLICT DO NOTHING`,
      ),
      selectNode: db.prepare(
        `SELECT node_id, txn_id, version, data FROM history_node
         WHERE tree_id = @treeId AND branch_id = @branchId AND node_id = @nodeId AND txn_id = @txnId`,
      ),
      // With max(), SQLite takes the bare columns from the row holding the maximum: the latest
      // write of each event id, so LIMIT counts event ids, not rows.
      readRange: db.prepare(
        `SELECT node_id, max(txn_id) AS txn_id, version, data FROM history_node
         WHERE tree_id = @treeId AND branch_id = @branchId AND node_id >= @min AND node_id < @max
         GROUP BY node_id ORDER BY node_id LIMIT @limit`,
      ),
      deleteNodes: db.prepare('DELETE FROM history_node WHERE tree_id = ?'),
      deleteTree: db.prepare('DELETE FROM history_tree WHERE tree_id = ?'),
    } as const;
  }

  /** Lists the branch and writes its events; a row written again must be the same row. */
  append({ branch, events }: HistoryAppend): void {
    const { treeId, branchId } = branch;
    this.stmt.listBranch.run({ treeId, branchId, ancestors: JSON.stringify(branch.ancestors) });
    for (const e of events) {
      const row = { treeId, branchId, nodeId: e.eventId, txnId: e.taskId, version: e.version, data: blob(e.data) };
      if (this.stmt.insertNode.run(row).changes === 1) continue;
      const stored = this.stmt.selectNode.get(row) as NodeRow;
      if (stored.version !== e.version || !stored.data.equals(row.data)) {
        throw new HistoryConflictError(`run ${treeId} branch ${branchId}: event ${e.eventId} of write ${e.taskId} is stored with other content`);
      }
    }
  }

  read({ branch, minEventId, maxEventId, limit }: ReadHistoryRequest): Promise<HistoryEventRow[]> {
    const rows = ({ branchId, min, max }: BranchRange, limit: number) =>
      (this.stmt.readRange.all({ treeId: branch.treeId, branchId, min, max, limit }) as NodeRow[]).map(toEvent);
    return readBranch(branch, minEventId, maxEventId, limit, rows);
  }

  /** Every branch of the tree. */
  deleteTree(treeId: string): void {
    this.stmt.deleteNodes.run(treeId);
    this.stmt.deleteTree.run(treeId);
  }
}

function toEvent(r: NodeRow): HistoryEventRow {
  return { eventId: num(r.node_id), version: r.version, taskId: r.txn_id, data: r.data };
}
