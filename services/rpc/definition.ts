// What the server and the caller both read from a ts-proto service definition.
import type * as grpc from '@grpc/grpc-js';

/** History pages and poll responses carry whole payloads: the frontend already bounds them. */
export const MAX_MESSAGE_BYTES = 256 * 1024 * 1024;

export type Definition = Record<string, { path: string; requestStream: boolean; responseStream: boolean }> & grpc.ServiceDefinition;
export type RequestOf<M> = M extends { requestSerialize: (value: infer Req) => Buffer } ? Req : never;
export type ResponseOf<M> = M extends { responseDeserialize: (bytes: Buffer) => infer Res } ? Res : never;

export function methodName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
