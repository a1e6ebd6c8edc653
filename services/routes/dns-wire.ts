// The few pieces of the DNS wire format (RFC 1035, SRV: RFC 2782) the route server needs: read a
// query's one question, write an authoritative answer. Anything a query can hold is bounds-checked;
// a packet that does not parse throws DnsFormatError and is answered FORMERR or dropped.

export const RR = { A: 1, TXT: 16, SRV: 33 } as const;
export const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const CLASS_IN = 1;
const HEADER_BYTES = 12;

export class DnsFormatError extends Error {
  override name = 'DnsFormatError';
}

export interface DnsQuestion {
  /** Labels as sent (case kept, so the answer echoes it). */
  labels: string[];
  type: number;
  qclass: number;
}

export interface DnsQuery {
  id: number;
  opcode: number;
  recursionDesired: boolean;
  question: DnsQuestion;
}

export interface DnsAnswer {
  type: number;
  ttlSeconds: number;
  data: Buffer;
}

/** The query's id, or undefined when the packet is too short to answer at all (or is itself a response). */
export function answerableId(packet: Buffer): number | undefined {
  if (packet.length < HEADER_BYTES || (packet[2]! & 0x80) !== 0) return undefined;
  return packet.readUInt16BE(0);
}

export function parseQuery(packet: Buffer): DnsQuery {
  if (packet.length < HEADER_BYTES) throw new DnsFormatError('short header');
  const flags = packet.readUInt16BE(2);
  if (packet.readUInt16BE(4) !== 1) throw new DnsFormatError('a query must hold exactly one question');
  const { labels, end } = readName(packet, HEADER_BYTES);
  if (end + 4 > packet.length) throw new DnsFormatError('question cut short');
  return {
    id: packet.readUInt16BE(0),
    opcode: (flags >> 11) & 0xf,
    recursionDesired: (flags & 0x0100) !== 0,
    question: { labels, type: packet.readUInt16BE(end), qclass: packet.readUInt16BE(end + 2) },
  };
}

/** Reads a (possibly compressed) name; pointers may only point backwards, so a loop cannot hang it. */
function readName(packet: Buffer, start: number): { labels: string[]; end: number } {
  const labels: string[] = [];
  let offset = start;
  let end: number | undefined;
  let length = 0;
  for (;;) {
    if (offset >= packet.length) throw new DnsFormatError('name runs past the packet');
    const len = packet[offset]!;
    if (len === 0) break;
    if ((len & 0xc0) === 0xc0) {
      if (offset + 1 >= packet.length) throw new DnsFormatError('pointer cut short');
      const target = ((len & 0x3f) << 8) | packet[offset + 1]!;
      if (target >= offset) throw new DnsFormatError('name pointer does not point backwards');
      end ??= offset + 2;
      offset = target;
      continue;
    }
    if ((len & 0xc0) !== 0) throw new DnsFormatError('unknown label type');
    if (offset + 1 + len > packet.length) throw new DnsFormatError('label runs past the packet');
    length += len + 1;
    if (length > 255) throw new DnsFormatError('name longer than 255 bytes');
    labels.push(packet.toString('latin1', offset + 1, offset + 1 + len));
    offset += 1 + len;
  }
  return { labels, end: end ?? offset + 1 };
}

function encodeName(labels: string[]): Buffer {
  const parts = labels.map((l) => {
    const bytes = Buffer.from(l, 'latin1');
    if (bytes.length === 0 || bytes.length > 63) throw new Error(`bad DNS label ${JSON.stringify(l)}`);
    return Buffer.concat([Buffer.from([bytes.length]), bytes]);
  });
  return Buffer.concat([...parts, Buffer.from([0])]);
}

/**
 * An authoritative response to `query` (or to a bare id, for FORMERR): the question echoed, then
 * the answers, each named by a pointer to the question's name.
 */
export function encodeResponse(query: DnsQuery | { id: number }, rcode: number, answers: DnsAnswer[] = []): Buffer {
  const q = 'question' in query ? query : undefined;
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(query.id, 0);
  const opcode = q?.opcode ?? 0;
  // QR, the opcode echoed, AA, RD echoed, no recursion available.
  header.writeUInt16BE(0x8000 | (opcode << 11) | 0x0400 | (q?.recursionDesired ? 0x0100 : 0) | rcode, 2);
  header.writeUInt16BE(q ? 1 : 0, 4);
  header.writeUInt16BE(answers.length, 6);
  if (!q) return header;
  const question = Buffer.concat([encodeName(q.question.labels), u16(q.question.type), u16(q.question.qclass)]);
  const records = answers.map((a) => {
    const fixed = Buffer.alloc(10);
    fixed.writeUInt16BE(a.type, 0);
    fixed.writeUInt16BE(CLASS_IN, 2);
    fixed.writeUInt32BE(a.ttlSeconds, 4);
    fixed.writeUInt16BE(a.data.length, 8);
    return Buffer.concat([u16(0xc000 | HEADER_BYTES), fixed, a.data]);
  });
  return Buffer.concat([header, question, ...records]);
}

function u16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(v, 0);
  return b;
}

/** RDATA of each record type the server answers. */
export const rdata = {
  a(ipv4: string): Buffer {
    return Buffer.from(ipv4.split('.').map(Number));
  },
  srv(port: number, target: string[]): Buffer {
    const fixed = Buffer.alloc(6);
    // Priority 0, weight 0: one target per namespace.
    fixed.writeUInt16BE(port, 4);
    return Buffer.concat([fixed, encodeName(target)]);
  },
  txt(strings: string[]): Buffer {
    return Buffer.concat(
      strings.map((s) => {
        const bytes = Buffer.from(s, 'utf8').subarray(0, 255);
        return Buffer.concat([Buffer.from([bytes.length]), bytes]);
      }),
    );
  },
};

export const CLASS = { IN: CLASS_IN, ANY: 255 } as const;
