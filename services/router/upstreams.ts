// The router's side towards the regions: one channel per frontend endpoint, and one try of a call
// on it with the caller's bytes, metadata and deadline. A try never throws: whatever happened comes
// back as a status, with the region's headers, trailers and response bytes when it answered.
import * as grpc from '@grpc/grpc-js';

export interface Attempt {
  /** The region's status and trailers, or one made up on this side (UNAVAILABLE, DEADLINE_EXCEEDED, CANCELLED by the signal). */
  status: grpc.StatusObject;
  headers?: grpc.Metadata;
  response?: Buffer;
}

const identity = (b: Buffer) => b;

const channelOptions: grpc.ChannelOptions = {
  // The router adds no limit of its own: the request passed its receive limit, answers are the region's.
  'grpc.max_receive_message_length': -1,
  'grpc.max_send_message_length': -1,
  // A region that comes back is used within seconds, not after grpc's reconnect backoff of up to two minutes.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  // A partitioned region fails its calls in flight (UNAVAILABLE, so they reroute) instead of
  // holding them until their deadlines.
  'grpc.keepalive_time_ms': 20_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

export class Upstreams {
  private readonly clients = new Map<string, grpc.Client>();

  constructor(private readonly credentials = grpc.credentials.createInsecure()) {}

  /** One try; aborting the signal cancels it (the caller went away, a route changed under a long poll). */
  call(endpoint: string, path: string, request: Buffer, metadata: grpc.Metadata, deadline: number, signal: AbortSignal): Promise<Attempt> {
    return new Promise((resolve) => {
      let response: Buffer | undefined;
      let headers: grpc.Metadata | undefined;
      const call = this.client(endpoint).makeUnaryRequest(path, identity, identity, request, metadata, { deadline }, (_err, value) => {
        response = value;
      });
      const cancel = () => call.cancel();
      call.on('metadata', (m: grpc.Metadata) => (headers = m));
      // grpc-js emits 'status' right after the callback, trailers included, for every outcome.
      call.on('status', (status: grpc.StatusObject) => {
        signal.removeEventListener('abort', cancel);
        // CANCELLED that the router did not ask for: the region cut the call (a server going down
        // resets its streams). For the caller that is a region gone: retryable, reroutable.
        if (status.code === grpc.status.CANCELLED && !signal.aborted) {
          status = { ...status, code: grpc.status.UNAVAILABLE, details: `the region cut the call: ${status.details}` };
        }
        resolve({ status, headers, response: status.code === grpc.status.OK ? response : undefined });
      });
      if (signal.aborted) cancel();
      else signal.addEventListener('abort', cancel, { once: true });
    });
  }

  /** Closes every channel; calls still on them end CANCELLED or UNAVAILABLE. */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private client(endpoint: string): grpc.Client {
    let c = this.clients.get(endpoint);
    if (!c) {
      c = new grpc.Client(endpoint, this.credentials, channelOptions);
      this.clients.set(endpoint, c);
    }
    return c;
  }
}
