import { readFileSync } from 'node:fs';
import type cassandra from 'cassandra-driver';

/** Replication map of the keyspace, e.g. { class: 'NetworkTopologyStrategy', datacenter1: 1 }. */
export type Replication = Record<string, string | number>;

const SCHEMA = readFileSync(new URL('./schema.cql', import.meta.url), 'utf8');

export function assertKeyspaceName(keyspace: string): void {
  // Cassandra's own rule for unquoted names; it also keeps the name safe to splice into CQL.
  if (!/^[A-Za-z][A-Za-z0-9_]{0,47}$/.test(keyspace)) throw new Error(`bad keyspace name ${JSON.stringify(keyspace)}`);
}

function replicationLiteral(r: Replication): string {
  const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
  return `{ ${Object.entries(r).map(([k, v]) => `${quote(k)}: ${quote(String(v))}`).join(', ')} }`;
}

/** The statements of schema.cql for one keyspace, in order. */
export function schemaStatements(keyspace: string, replication: Replication): string[] {
  assertKeyspaceName(keyspace);
  return SCHEMA.split('\n')
    .filter((line) => !line.trimStart().startsWith('--'))
    .join('\n')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => s.replaceAll('{{keyspace}}', keyspace).replaceAll('{{replication}}', replicationLiteral(replication)));
}

/** Creates the keyspace and its tables when missing; safe to call on every start. */
export async function applySchema(client: cassandra.Client, keyspace: string, replication: Replication): Promise<void> {
  for (const stmt of schemaStatements(keyspace, replication)) await client.execute(stmt);
}
