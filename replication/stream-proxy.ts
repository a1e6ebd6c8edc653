// A region's public end of the replication stream when its history nodes are separate processes:
// each StreamShard call another region's receiver opens on the frontend's port is piped, bytes
// untouched, to the history node that owns the shard (membership + rendezvous, as RemoteHistory
// routes calls), which serves the sender. When the owner changes or leaves the membership the
// stream ends with UNAVAILABLE, and the receiver reconnects by itself (here again, to the new owner).
import * as grpc from '@grpc/grpc-js';
import type { Service } from '../services/common/lifecycle.js';
import type { Logger } from '../services/common/logger.js';
import type { ExtraService } from '../services/frontend/server.js';
import type { Membership } from '../services/membership/membership.js';
import { shardOwner } from '../services/membership/rendezvous.js';
import { rawDefinition } from '../services/rpc/definition.js';
import { RemoteService } from '../services/rpc/remote-service.js';
import { ReplicationServiceService, StreamShardRequest } from '../proto/gen/tandem/replication/v1/replication.js';

const definition = rawDefinition(ReplicationServiceService);
type Downstream = grpc.ServerDuplexStream<Buffer, Buffer>;
type Upstream = grpc.ClientDuplexStream<Buffer, Buffer>;

export interface StreamShardProxyDeps {
  /** The region's membership: the history members own the shards. */
  membership: Membership;
  numShards: number;
  logger: Logger;
}

export class StreamShardProxy implements Service {
  private readonly remote: RemoteService<typeof definition>;
  private readonly pipes = new Set<Pipe>();
  private readonly log: Logger;
  private unsubscribe?: () => void;
  private stopped = false;

  constructor(private readonly deps: StreamShardProxyDeps) {
    this.log = deps.logger.child({ component: 'replication-proxy' });
    this.remote = new RemoteService('history', definition, deps.membership, undefined, this.log);
  }

  /** Served on the frontend's port in place of the sender itself. */
  get extraService(): ExtraService {
    return {
      definition: definition as unknown as grpc.ServiceDefinition,
      implementation: { streamShard: (call: Downstream) => this.serve(call) },
      peersOnly: true,
    };
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.remote.start();
    this.unsubscribe ??= this.deps.membership.onChange(() => this.followOwners());
  }

  /** Ends every stream with UNAVAILABLE: the receivers reconnect to another frontend, or this one restarted. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    for (const p of [...this.pipes]) p.close({ code: grpc.status.UNAVAILABLE, details: 'the frontend is stopping; reconnect' });
    await this.remote.stop();
  }

  private serve(down: Downstream): void {
    if (this.stopped) return void down.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the frontend is stopping; reconnect' });
    // The first message names the shard; it goes on to the owner as it came.
    down.once('data', (first: Buffer) => {
      const shardId = shardOf(first);
      if (shardId === undefined || shardId < 0 || shardId >= this.deps.numShards) {
        return void down.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: 'StreamShard: the first message must be start, with a shard of this cluster' });
      }
      const opened = this.stopped ? undefined : this.remote.openStream('streamShard', (members) => shardOwner(shardId, members));
      if (!opened) return void down.emit('error', { code: grpc.status.UNAVAILABLE, details: `StreamShard: no live history node owns shard ${shardId}; retry` });
      const pipe = new Pipe(shardId, opened.member.address, down, opened.call, () => this.pipes.delete(pipe));
      this.pipes.add(pipe);
      opened.call.write(first);
      this.log.debug({ shardId, owner: opened.member.address }, 'replication stream piped to the shard owner');
    });
  }

  /** A stream whose shard now belongs to another node (or to none) ends; its receiver reconnects. */
  private followOwners(): void {
    const members = this.remote.members();
    for (const p of [...this.pipes]) {
      const owner = shardOwner(p.shardId, members);
      if (owner?.address === p.address) continue;
      p.close({ code: grpc.status.UNAVAILABLE, details: `shard ${p.shardId} moved from ${p.address} to ${owner?.address ?? 'no live history node'}; reconnect` });
    }
  }
}

function shardOf(first: Buffer): number | undefined {
  try {
    return StreamShardRequest.decode(first).start?.shardId;
  } catch {
    return undefined;
  }
}

/** One proxied stream: messages both ways with backpressure; either end closing closes the other. */
class Pipe {
  private closed = false;

  constructor(
    readonly shardId: number,
    /** The owner's address when the stream opened. */
    readonly address: string,
    private readonly down: Downstream,
    private readonly up: Upstream,
    private readonly onClose: () => void,
  ) {
    this.relay(up, down);
    this.relay(down, up);
    // The receiver half-closed: so does the sender's side, which then ends the call.
    down.on('end', () => up.end());
    down.on('cancelled', () => this.close());
    up.on('error', (err: grpc.ServiceError) => this.close({ code: err.code, details: err.details }));
    up.on('status', (status: grpc.StatusObject) => status.code === grpc.status.OK && this.close());
  }

  /** Ends the receiver's call (OK without a status) and cancels the owner's. */
  close(status?: Partial<grpc.StatusObject>): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    this.up.cancel();
    if (status) this.down.emit('error', status);
    else this.down.end();
  }

  private relay(from: Downstream | Upstream, to: Downstream | Upstream): void {
    from.on('data', (message: Buffer) => {
      if (this.closed) return;
      if (to.write(message)) return;
      from.pause();
      to.once('drain', () => from.resume());
    });
  }
}
