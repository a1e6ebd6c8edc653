// What the server and the caller both read from a ts-proto service definition.
import type * as grpc from '@grpc/grpc-js';

/** History pages and poll responses carry whole payloads: the frontend already bounds them. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

/** Channels between the processes of a cluster (inside a region, and the replication links). */
export const internalChannelOptions: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': MAX_MESSAGE_BYTES,
  // A node or region that comes back on its address is reachable again within a second or two,
  // not after grpc's default reconnect backoff of up to two minutes.
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 2_000,
  // A link that goes silent is noticed by keepalive.
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
};

export type Definition = Record<string, { path: string; requestStream: boolean; responseStream: boolean }> & grpc.ServiceDefinition;
export type RequestOf<M> = M extends { requestSerialize: (value: infer Req) => Buffer } ? Req : never;
export type ResponseOf<M> = M extends { responseDeserialize: (bytes: Buffer) => infer Res } ? Res : never;
/** The server's side of a bidirectional-stream method. */
export type StreamCall<M> = grpc.ServerDuplexStream<RequestOf<M>, ResponseOf<M>>;

export function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

/** A definition whose messages stay encoded: what a proxy that passes them on untouched serves and calls. */
export type RawDefinition<S extends Definition> = {
  [K in keyof S]: Omit<S[K], 'requestSerialize' | 'requestDeserialize' | 'responseSerialize' | 'responseDeserialize'> & {
    requestSerialize: (value: Buffer) => Buffer;
    requestDeserialize: (bytes: Buffer) => Buffer;
    responseSerialize: (value: Buffer) => Buffer;
    responseDeserialize: (bytes: Buffer) => Buffer;
  };
} & Definition;

const same = (bytes: Buffer): Buffer => bytes;

export function rawDefinition<S extends Definition>(definition: S): RawDefinition<S> {
  const raw: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(definition)) {
    raw[key] = { ...def, requestSerialize: same, requestDeserialize: same, responseSerialize: same, responseDeserialize: same };
  }
  return raw as RawDefinition<S>;
}
