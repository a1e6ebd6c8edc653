// API key secrets: `tdm_<id>_<secret>`. The id finds the record without a scan; the secret is 32
// random bytes, stored only as its sha256 (a fast hash is enough for a random 256-bit secret: there
// is nothing to guess from), compared in constant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const PREFIX = 'tdm';
const FORMAT = /^tdm_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface MintedKey {
  id: string;
  /** What the caller sends as `authorization: Bearer <token>`; shown once. */
  token: string;
  hash: string;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function mintKey(): MintedKey {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${PREFIX}_${id}_${secret}`, hash: hashSecret(secret) };
}

/** The id and secret of a token, or undefined for anything that is not one. */
export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = FORMAT.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function secretMatches(secret: string, hash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(hash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The token of an `authorization` header value (`Bearer <token>`, scheme case-insensitive). */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}
