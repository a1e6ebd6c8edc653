// Reads a few top-level fields of an encoded protobuf message without decoding the rest: the
// router needs a request's namespace (and for history long polls its wait flag and page token),
// while the bytes travel on untouched. A field seen twice keeps its last value, as protobuf says.

export type FieldValue = Buffer | number;

/**
 * Values of the wanted field numbers: bytes for length-delimited fields, numbers for varints.
 * Bytes that do not parse end the scan with what was read so far; the region answers them.
 */
export function scanFields(message: Buffer, wanted: ReadonlySet<number>): Map<number, FieldValue> {
  const found = new Map<number, FieldValue>();
  let pos = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 1; ; shift *= 128) {
      if (pos >= message.length || shift > 2 ** 63) throw new RangeError('varint past the end');
      const b = message[pos++]!;
      value += (b & 0x7f) * shift;
      if (b < 0x80) return value;
    }
  };
  try {
    while (pos < message.length) {
      const tag = varint();
      const field = Math.floor(tag / 8);
      switch (tag % 8) {
        case 0: {
          const v = varint();
          if (wanted.has(field)) found.set(field, v);
          break;
        }
        case 1:
          pos += 8;
          break;
        case 2: {
          const len = varint();
          if (pos + len > message.length) throw new RangeError('field past the end');
          if (wanted.has(field)) found.set(field, message.subarray(pos, pos + len));
          pos += len;
          break;
        }
        case 5:
          pos += 4;
          break;
        default:
          // Groups (3, 4) are not used by Temporal's messages; anything else is not protobuf.
          throw new RangeError(`wire type ${tag % 8}`);
      }
    }
  } catch {
    // Malformed: keep what was read.
  }
  return found;
}
