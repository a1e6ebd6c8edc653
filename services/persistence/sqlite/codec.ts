// The driver edge: the connection runs with safe integers on, so every INTEGER column arrives as
// a bigint; 64-bit ids stay bigint and the rest become numbers here.

export function num(v: bigint): number {
  return Number(v);
}

export function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`sqlite: stored ${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Bind as a Buffer view without copying, whatever Uint8Array the caller handed over. */
export function blob(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** True for a SQLite UNIQUE or PRIMARY KEY violation. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
