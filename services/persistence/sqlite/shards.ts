import type Database from 'better-sqlite3';
import { ConditionFailedError, ShardOwnershipLostError } from '../errors.js';
import type { ShardStore } from '../store.js';
import type { Int64, ShardInfo } from '../types.js';
import { num, parseJson } from './codec.js';

interface ShardRow {
  shard_id: bigint;
  range_id: bigint;
  owner: string;
  ack_levels: string;
  updated_at_ms: bigint;
}

export class SqliteShardStore implements ShardStore {
  private readonly selectShard: Database.Statement;
  private readonly selectRangeId: Database.Statement;
  private readonly insertShard: Database.Statement;
  private readonly updateShardRow: Database.Statement;

  constructor(db: Database.Database) {
    this.selectShard = db.prepare('SELECT * FROM shards WHERE shard_id = ?');
    this.selectRangeId = db.prepare('SELECT range_id FROM shards WHERE shard_id = ?').pluck();
    this.insertShard = db.prepare(
      `INSERT INTO shards (shard_id, range_id, owner, ack_levels, updated_at_ms)
       VALUES (@shardId, @rangeId, @owner, @ackLevels, @updatedAtMs) ON CONFLICT DO NOTHING`,
    );
    this.updateShardRow = db.prepare(
      `UPDATE shards SET range_id = @rangeId, owner = @owner, ack_levels = @ackLevels, updated_at_ms = @updatedAtMs
       WHERE shard_id = @shardId AND range_id = @expectedRangeId`,
    );
  }

  async getShard(shardId: number): Promise<ShardInfo | null> {
    const row = this.selectShard.get(shardId) as ShardRow | undefined;
    return row ? toShard(row) : null;
  }

  async createShard(info: ShardInfo): Promise<void> {
    if (this.insertShard.run(shardParams(info)).changes === 0) {
      throw new ConditionFailedError(`shard ${info.shardId} exists already`);
    }
  }

  async updateShard(info: ShardInfo, expectedRangeId: Int64): Promise<void> {
    if (this.updateShardRow.run({ ...shardParams(info), expectedRangeId }).changes === 0) {
      throw new ShardOwnershipLostError(info.shardId, expectedRangeId, this.rangeIdOf(info.shardId));
    }
  }

  /** The fence every shard write checks first, inside its transaction. */
  assertOwner(shardId: number, rangeId: Int64): void {
    const actual = this.rangeIdOf(shardId);
    if (actual !== rangeId) throw new ShardOwnershipLostError(shardId, rangeId, actual);
  }

  private rangeIdOf(shardId: number): Int64 | null {
    return (this.selectRangeId.get(shardId) as bigint | undefined) ?? null;
  }
}

function shardParams(info: ShardInfo) {
  return {
    shardId: info.shardId,
    rangeId: info.rangeId,
    owner: info.owner,
    ackLevels: JSON.stringify(info.ackLevels),
    updatedAtMs: info.updatedAtMs,
  };
}

function toShard(row: ShardRow): ShardInfo {
  return {
    shardId: num(row.shard_id),
    rangeId: row.range_id,
    owner: row.owner,
    ackLevels: parseJson<Record<string, string>>(row.ack_levels, `ack levels of shard ${row.shard_id}`),
    updatedAtMs: num(row.updated_at_ms),
  };
}
