// Temporal API messages travel inside our internal protobuf as `bytes` (see proto/README.md),
// encoded with @temporalio/proto's own classes.

/** The static API of a @temporalio/proto message class. */
export interface TemporalType<T> {
  encode(message: T): { finish(): Uint8Array };
  decode(bytes: Uint8Array): T;
  fromObject(object: Record<string, unknown>): T;
}

/** fromObject first: it turns plain objects, bigints and base64 strings into what encode expects. */
export function encodeTemporal<T>(type: TemporalType<T>, value: unknown): Buffer {
  const bytes = type.encode(type.fromObject((value ?? {}) as Record<string, unknown>)).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
