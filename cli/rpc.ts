// How the tandem verbs call a frontend: a failed call becomes an RpcFailure naming the address and
// the gRPC status (code and details), which the command prints before exiting 1.
import * as grpc from '@grpc/grpc-js';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { channelCredentials, sdkTls } from '../services/common/tls.js';

/** The API key every verb calls with when the cluster runs with auth (tandem user|apikey|audit also take --api-key). */
export const API_KEY_ENV = 'TANDEM_API_KEY';

/** $TANDEM_API_KEY, if set, as the SDK connection's apiKey option. */
function apiKeyOption(): { apiKey?: string } {
  const apiKey = process.env[API_KEY_ENV];
  return apiKey ? { apiKey } : {};
}

/** Metadata with $TANDEM_API_KEY as `authorization: Bearer`, for tandem.admin.v1 calls. */
export function apiKeyMetadata(apiKey = process.env[API_KEY_ENV]): grpc.Metadata {
  const metadata = new grpc.Metadata();
  if (apiKey) metadata.set('authorization', `Bearer ${apiKey}`);
  return metadata;
}

/** How long `withConnection` waits for the frontend's first answer. */
const CONNECT_TIMEOUT_MS = 10_000;

export class RpcFailure extends Error {
  override name = 'RpcFailure';
  constructor(
    readonly address: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    const hint = code === grpc.status.UNAVAILABLE ? ' (is a tandem frontend listening there?)' : '';
    // grpc-js ends a connection failure with an empty "Resolution note: ".
    super(`call to ${address} failed: ${grpc.status[code] ?? code} (${code}): ${details.replace(/\s*Resolution note:\s*$/, '')}${hint}`);
  }
}

function serviceErrorOf(err: unknown): grpc.ServiceError | undefined {
  if (isGrpcServiceError(err)) return err;
  const cause = (err as { cause?: unknown } | undefined)?.cause;
  return isGrpcServiceError(cause) ? cause : undefined;
}

/** Runs `fn`, turning a gRPC error into an RpcFailure for `address`. */
export async function atAddress<T>(address: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const s = serviceErrorOf(err);
    throw s ? new RpcFailure(address, s.code, s.details) : err;
  }
}

/** Where a verb calls: --address, and --tls-ca when it serves TLS. */
export interface Target {
  address: string;
  tlsCa?: string;
}

/** grpc-js credentials for a target: TLS checked against its CA, or plaintext. */
export function credentialsFor(t: Target): grpc.ChannelCredentials {
  return channelCredentials(t.tlsCa === undefined ? undefined : { caFile: t.tlsCa });
}

/**
 * The official client connected to `address`. A first call without retries fails at once when
 * nothing listens there (the client's own connect would wait out its timeout, then say only
 * that it missed the deadline); the connection `fn` gets keeps the client's retries.
 */
export function withConnection<T>({ address, tlsCa }: Target, fn: (c: Connection) => Promise<T>): Promise<T> {
  return atAddress(address, async () => {
    // `false`, not undefined, for plaintext: with an apiKey the SDK would turn TLS on by itself.
    const tls = sdkTls(tlsCa === undefined ? undefined : { caFile: tlsCa }) ?? false;
    const probe = Connection.lazy({ address, interceptors: [], tls, ...apiKeyOption() });
    try {
      await probe.withDeadline(Date.now() + CONNECT_TIMEOUT_MS, () => probe.workflowService.getSystemInfo({}));
    } finally {
      await probe.close();
    }
    const connection = await Connection.connect({ address, connectTimeout: CONNECT_TIMEOUT_MS, tls, ...apiKeyOption() });
    try {
      return await fn(connection);
    } finally {
      await connection.close();
    }
  });
}

/** A grpc-js unary call as a promise. */
export function unary<Res>(call: (cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => call((err, res) => (err ? reject(err) : resolve(res))));
}
