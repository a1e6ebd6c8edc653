// The receiving side that namespace and identity replication share: a pass over every remote
// region each interval until stopped, and one gRPC client per remote region, made again (with
// fresh per-remote state) when the region's frontend address changes, and closed on stop.
import * as grpc from '@grpc/grpc-js';
import { sleep, type Service } from './lifecycle.js';

/** A region back from an outage is read again within seconds, not after grpc's two-minute backoff. */
const REMOTE_REGION_CHANNEL: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
};

export interface RegionPollerOptions<C, S> {
  /** A generated grpc-js client class of the remote service. */
  client: new (address: string, credentials: grpc.ChannelCredentials, options: grpc.ChannelOptions) => C;
  /** How this region reaches other regions' frontends; default plaintext. */
  links?: grpc.ChannelCredentials;
  intervalMs: number;
  /** One pass over the remotes; its failures are its own to handle. */
  pass: () => Promise<unknown>;
  /** What the caller keeps per remote (failures, backoff), new with each client. */
  initialState: () => S;
}

export interface RemoteRegion<C, S> {
  address: string;
  client: C;
  state: S;
}

export class RegionPoller<C extends grpc.Client, S> implements Service {
  private readonly remotes = new Map<string, RemoteRegion<C, S>>();
  private stopping?: AbortController;
  private loop?: Promise<void>;

  constructor(private readonly opts: RegionPollerOptions<C, S>) {}

  async start(): Promise<void> {
    if (this.loop) return;
    const stopping = new AbortController();
    this.stopping = stopping;
    this.loop = this.run(stopping.signal);
  }

  /** Ends the loop after the pass in progress, then closes the clients. */
  async stop(): Promise<void> {
    this.stopping?.abort();
    await this.loop;
    this.loop = undefined;
    for (const r of this.remotes.values()) r.client.close();
    this.remotes.clear();
  }

  /** The remote region `name` at `address`: its client and state, both new when the address changed. */
  remote(name: string, address: string): RemoteRegion<C, S> {
    const known = this.remotes.get(name);
    if (known && known.address === address) return known;
    known?.client.close();
    const remote = {
      address,
      client: new this.opts.client(address, this.opts.links ?? grpc.credentials.createInsecure(), REMOTE_REGION_CHANNEL),
      state: this.opts.initialState(),
    };
    this.remotes.set(name, remote);
    return remote;
  }

  private async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      await this.opts.pass();
      await sleep(this.opts.intervalMs, signal);
    }
  }
}
