// How a TandemError crosses an internal call: the gRPC status plus two trailers, so the caller
// rebuilds the very error the handler threw (code, message, Temporal failure details); or, for
// one item of a call whose items fail one by one, the same as a WireError message.
import * as grpc from '@grpc/grpc-js';
import { TandemError, apiError, type ErrorCode, type ErrorDetail } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { root } from '../common/temporal.js';
import { PersistenceError } from '../persistence/errors.js';
import { ErrorDetails, type ErrorDetail as WireErrorDetail, type WireError } from '../../proto/gen/tandem/internal/v1/common.js';

/** The TandemError code of a failed call, so the caller rebuilds the same error. */
export const ERROR_CODE_TRAILER = 'tandem-error-code';
/** An ErrorDetails: the Temporal failure details of the TandemError. */
export const ERROR_DETAILS_TRAILER = 'tandem-error-details-bin';

interface ReflectionType {
  encode(message: unknown): { finish(): Uint8Array };
  decode(bytes: Uint8Array): unknown;
  fromObject(object: Record<string, unknown>): unknown;
  toObject(message: unknown): Record<string, unknown>;
}
// @temporalio/proto's root is a protobufjs Root at runtime; its declarations omit lookupType.
const reflection = root as unknown as { lookupType(name: string): ReflectionType };

/** What the server answers for an error: TandemErrors as they are, the rest as the frontend would map them. */
function asTandemError(err: unknown, method: string, log: Logger): TandemError {
  if (err instanceof TandemError) return err;
  if (err instanceof PersistenceError) {
    log.warn({ err, method }, 'persistence error escaped to the internal rpc');
    return apiError('UNAVAILABLE', `${err.name}: ${err.message}; retry`);
  }
  log.error({ err, method }, 'unexpected error in internal rpc handler');
  return apiError('INTERNAL', `internal error: ${err instanceof Error ? err.message : String(err)}`);
}

function encodeDetails(e: TandemError, log: Logger): WireErrorDetail[] {
  const details = [];
  for (const d of e.details) {
    try {
      const type = reflection.lookupType(d.typeName);
      details.push({ typeName: d.typeName, value: Buffer.from(type.encode(type.fromObject(d.value)).finish()) });
    } catch (encodeErr) {
      log.error({ err: encodeErr, typeName: d.typeName }, 'cannot encode error detail');
    }
  }
  return details;
}

function decodeDetails(details: WireErrorDetail[]): ErrorDetail[] {
  return details.map((d) => {
    const type = reflection.lookupType(d.typeName);
    return { typeName: d.typeName, value: type.toObject(type.decode(d.value)) };
  });
}

export function toServiceStatus(err: unknown, method: string, log: Logger): Partial<grpc.StatusObject> {
  const e = asTandemError(err, method, log);
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_TRAILER, e.code);
  if (e.details.length > 0) metadata.set(ERROR_DETAILS_TRAILER, Buffer.from(ErrorDetails.encode({ details: encodeDetails(e, log) }).finish()));
  return { code: e.grpcStatus, details: e.message, metadata };
}

/** A TandemError sent by a server of ours, or null when the status came from the transport. */
export function tandemErrorFrom(err: grpc.ServiceError): TandemError | null {
  const code = err.metadata?.get(ERROR_CODE_TRAILER)[0];
  if (typeof code !== 'string') return null;
  const raw = err.metadata.get(ERROR_DETAILS_TRAILER)[0];
  return new TandemError(code as ErrorCode, err.code, err.details, Buffer.isBuffer(raw) ? decodeDetails(ErrorDetails.decode(raw).details) : []);
}

/** The error of one item of a call whose items fail one by one, as toServiceStatus sends a whole call's. */
export function toWireError(err: unknown, method: string, log: Logger): WireError {
  const e = asTandemError(err, method, log);
  return { code: e.code, grpcStatus: e.grpcStatus, message: e.message, details: encodeDetails(e, log) };
}

export function tandemErrorFromWire(w: WireError): TandemError {
  return new TandemError(w.code as ErrorCode, w.grpcStatus, w.message, decodeDetails(w.details));
}
