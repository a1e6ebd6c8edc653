// Conversions between milliseconds and the protobuf Timestamp/Duration/int64 shapes that
// protobufjs decodes (int64 as Long, number or string depending on the producer).
import Long from 'long';

export type Int64Like = number | string | bigint | Long | null | undefined;

export function toNumber(v: Int64Like): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint' || typeof v === 'string') return Number(v);
  return v.toNumber();
}

export function toBigInt(v: Int64Like): bigint {
  if (v === null || v === undefined) return 0n;
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  if (typeof v === 'string') return BigInt(v);
  // From the two 32-bit halves: a decimal string in between cost a parse on every id.
  return (BigInt(v.unsigned ? v.high >>> 0 : v.high) << 32n) | BigInt(v.low >>> 0);
}

/** bigint to the Long protobufjs encodes exactly (numbers above 2^53 would lose bits). */
export function toLong(v: bigint): Long {
  return Long.fromBits(Number(BigInt.asIntN(32, v)), Number(BigInt.asIntN(32, v >> 32n)));
}

export interface TimestampLike {
  seconds?: Int64Like;
  nanos?: number | null;
}

export function timestampFromMs(ms: number): { seconds: Long; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds: Long.fromNumber(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function msFromTimestamp(ts: TimestampLike | null | undefined): number {
  if (!ts) return 0;
  return toNumber(ts.seconds) * 1000 + Math.floor((ts.nanos ?? 0) / 1e6);
}

/** Duration and Timestamp share the {seconds, nanos} shape. */
export const durationFromMs = timestampFromMs;
export const msFromDuration = msFromTimestamp;

/** A duration field that is unset, zero or negative means "none". */
export function optionalDurationMs(d: TimestampLike | null | undefined): number {
  const ms = msFromDuration(d);
  return ms > 0 ? ms : 0;
}
