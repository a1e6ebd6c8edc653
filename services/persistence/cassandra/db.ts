// The driver edge: every query of the store goes through Db, which prepares statements, maps
// driver failures to StoreUnavailableError and converts bytes. 64-bit columns travel as JS
// bigint (the driver's useBigIntAsLong), so no Long escapes this folder.
import cassandra from 'cassandra-driver';
import { StoreUnavailableError } from '../errors.js';

export type Row = cassandra.types.Row;
export type Params = unknown[];
export interface Stmt {
  query: string;
  params: Params;
}

const { consistencies, responseErrorCodes } = cassandra.types;

/** Server answers that leave the outcome of a write unknown, or say the node cannot serve now. */
const UNAVAILABLE_CODES = new Set<number>([
  responseErrorCodes.unavailableException,
  responseErrorCodes.overloaded,
  responseErrorCodes.isBootstrapping,
  responseErrorCodes.writeTimeout,
  responseErrorCodes.readTimeout,
  responseErrorCodes.readFailure,
  responseErrorCodes.writeFailure,
  0x1700, // CAS write unknown (protocol v5)
]);

export function mapDriverError(err: unknown): unknown {
  const e = err as { code?: number; message?: string };
  if (
    err instanceof cassandra.errors.OperationTimedOutError ||
    err instanceof cassandra.errors.NoHostAvailableError ||
    err instanceof cassandra.errors.BusyConnectionError ||
    (err instanceof cassandra.errors.ResponseError && e.code !== undefined && UNAVAILABLE_CODES.has(e.code))
  ) {
    const unavailable = new StoreUnavailableError(`cassandra: ${e.message ?? String(err)}`);
    (unavailable as { cause?: unknown }).cause = err;
    return unavailable;
  }
  return err;
}

/** For reads that must see the outcome of every LWT, even one whose client gave up. */
export const SERIAL: ReadOptions = { consistency: consistencies.localSerial };

export interface ReadOptions {
  consistency?: number;
  fetchSize?: number;
  pageState?: string;
}

export class Db {
  constructor(
    readonly client: cassandra.Client,
    readonly keyspace: string,
  ) {}

  /** Table name qualified with the keyspace. */
  t(table: string): string {
    return `${this.keyspace}.${table}`;
  }

  async execute(query: string, params: Params = [], opts: ReadOptions = {}): Promise<cassandra.types.ResultSet> {
    try {
      return await this.client.execute(query, params, { prepare: true, ...opts });
    } catch (err) {
      throw mapDriverError(err);
    }
  }

  /** Every row of the query, following pages. */
  async all(query: string, params: Params = [], opts: ReadOptions = {}): Promise<Row[]> {
    const rows: Row[] = [];
    for await (const row of this.rows(query, params, opts)) rows.push(row);
    return rows;
  }

  /** The rows of the query, a page fetched only when the caller reaches it: stop early, fetch no more. */
  async *rows(query: string, params: Params = [], opts: ReadOptions = {}): AsyncGenerator<Row> {
    try {
      const rs = await this.client.execute(query, params, { prepare: true, fetchSize: 1000, ...opts });
      for await (const row of rs) yield row;
    } catch (err) {
      throw mapDriverError(err);
    }
  }

  async first(query: string, params: Params = [], opts: ReadOptions = {}): Promise<Row | null> {
    return (await this.execute(query, params, opts)).first() ?? null;
  }

  /** A batch in one partition; with conditions it is one Paxos round (the caller checks applied). */
  async batch(stmts: Stmt[]): Promise<cassandra.types.ResultSet> {
    try {
      return await this.client.batch(stmts, { prepare: true, logged: false });
    } catch (err) {
      throw mapDriverError(err);
    }
  }
}

export function toBlob(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A plain Uint8Array view (not a Buffer), so records compare equal whatever store wrote them. */
export function fromBlob(buf: Buffer | null | undefined): Uint8Array {
  return buf ? new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) : new Uint8Array(0);
}

/** A bigint column as a JS number (event ids, versions counted in small integers, ms times). */
export function num(v: unknown): number {
  return v === null || v === undefined ? 0 : Number(v as bigint | number);
}

export function big(v: unknown): bigint {
  return v === null || v === undefined ? 0n : BigInt(v as bigint | number);
}

export function createClient(opts: { contactPoints: string[]; localDataCenter: string }): cassandra.Client {
  return new cassandra.Client({
    contactPoints: opts.contactPoints,
    localDataCenter: opts.localDataCenter,
    encoding: { useBigIntAsLong: true, useUndefinedAsUnset: true },
    queryOptions: { consistency: consistencies.localQuorum, serialConsistency: consistencies.localSerial, prepare: true },
    // Longer than the server's own timeouts, so the server's answer (which says what happened)
    // normally arrives before the client gives up.
    socketOptions: { connectTimeout: 5000, readTimeout: 20000 },
  });
}
