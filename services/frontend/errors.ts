// The one place where an error becomes a gRPC status. TandemErrors carry their status and
// Temporal failure details (sent as google.rpc.Status in grpc-status-details-bin, which the SDKs
// decode); another region's answer to a forwarded call goes out as it came; store errors that
// escape are retryable UNAVAILABLE; anything else is a bug: INTERNAL.
import * as grpc from '@grpc/grpc-js';
import { TandemError, type ErrorDetail } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { PersistenceError } from '../persistence/errors.js';
import { encodeMessage, reflectionRoot } from '../common/grpc-codec.js';
import { ForwardedStatus } from './forwarding.js';

const statusType = reflectionRoot.lookupType('google.rpc.Status');

function statusDetailsMetadata(code: grpc.status, message: string, details: ErrorDetail[], log: Logger): grpc.Metadata {
  const any = [];
  for (const d of details) {
    try {
      any.push({ type_url: `type.googleapis.com/${d.typeName}`, value: encodeMessage(reflectionRoot.lookupType(d.typeName), d.value) });
    } catch (err) {
      log.error({ err, typeName: d.typeName }, 'cannot encode error detail');
    }
  }
  const metadata = new grpc.Metadata();
  metadata.set('grpc-status-details-bin', encodeMessage(statusType, { code, message, details: any }));
  return metadata;
}

/**
 * Status messages travel in HTTP/2 trailers (twice: grpc-message and the details); a message
 * that echoes a huge input would stall the client's connection, so it is cut.
 */
const MAX_MESSAGE_LENGTH = 2048;

function capped(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH)}… (${message.length} characters)`;
}

export function toServiceError(err: unknown, method: string, log: Logger): Partial<grpc.StatusObject> {
  if (err instanceof ForwardedStatus) return err.status;
  if (err instanceof TandemError) {
    const message = capped(err.message);
    return {
      code: err.grpcStatus,
      details: message,
      metadata: statusDetailsMetadata(err.grpcStatus, message, err.details, log),
    };
  }
  if (err instanceof PersistenceError) {
    log.warn({ err, method }, 'persistence error escaped to the frontend');
    const message = capped(`${err.name}: ${err.message}; retry`);
    return { code: grpc.status.UNAVAILABLE, details: message, metadata: statusDetailsMetadata(grpc.status.UNAVAILABLE, message, [], log) };
  }
  log.error({ err, method }, 'unexpected error in handler');
  const message = capped(`internal error: ${err instanceof Error ? err.message : String(err)}`);
  return { code: grpc.status.INTERNAL, details: message, metadata: statusDetailsMetadata(grpc.status.INTERNAL, message, [], log) };
}
