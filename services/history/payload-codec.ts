// Protobuf messages kept inside the JSON mutable state are stored as base64 strings.
export function encodeB64<T>(type: { encode(m: T): { finish(): Uint8Array } }, msg: T): string {
  return Buffer.from(type.encode(msg).finish()).toString('base64');
}

export function decodeB64<T>(type: { decode(b: Uint8Array): T }, s: string): T {
  return type.decode(Buffer.from(s, 'base64'));
}
