// grpc-js service definitions built from the protobufjs reflection root of @temporalio/proto, so
// handlers see the same message classes (int64 as Long) the rest of the code uses.
import type * as grpc from '@grpc/grpc-js';
// Types only: @temporalio/proto's root is a protobufjs Root at runtime, but its declarations only
// list the generated namespaces. protobufjs 7 and 8 share this reflection API.
import type { Method, Root, Service, Type } from 'protobufjs';
import { root } from './temporal.js';

export const reflectionRoot = root as unknown as Root;
export type PbService = Service;
export type PbType = Type;
export type PbMethod = Method;

/** What deserialize hands the handler for bytes that are not a valid message, instead of throwing. */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

export function requestType(method: PbMethod): PbType {
  return reflectionRoot.lookupType(method.requestType);
}

export function responseType(method: PbMethod): PbType {
  return reflectionRoot.lookupType(method.responseType);
}

/**
 * Plain objects become messages through fromObject, which turns bigint/number/string int64s into
 * Long, base64 strings into bytes and nested plain objects into messages; Type.encode alone would
 * write a bigint as 0.
 */
export function toMessage(type: PbType, value: unknown): object {
  return type.fromObject((value ?? {}) as Record<string, unknown>);
}

export function encodeMessage(type: PbType, value: unknown): Buffer {
  const bytes = type.encode(toMessage(type, value)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function serviceDefinition(service: PbService): grpc.ServiceDefinition {
  const servicePath = service.fullName.replace(/^\./, '');
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    const req = requestType(method);
    const res = responseType(method);
    def[method.name] = {
      path: `/${servicePath}/${method.name}`,
      requestStream: method.requestStream === true,
      responseStream: method.responseStream === true,
      requestSerialize: (value: unknown) => encodeMessage(req, value),
      requestDeserialize: (bytes: Buffer) => {
        try {
          return req.decode(bytes);
        } catch (err) {
          return new MalformedRequest((err as Error).message);
        }
      },
      responseSerialize: (value: unknown) => encodeMessage(res, value),
      responseDeserialize: (bytes: Buffer) => res.decode(bytes),
      originalName: method.name,
    };
  }
  return def;
}
