// The OpenSearch that tests run against: TANDEM_TEST_OPENSEARCH (its URL) when set, else the
// launcher instance named 'test', started on first use and left running for the next test file
// (`npx tsx deploy/opensearch/cli.ts stop --name test` stops it).
import { randomBytes } from 'node:crypto';
import { startOpenSearch } from './launcher.js';

export const TEST_INSTANCE = { name: 'test', host: '127.0.0.1', httpPort: 29200, transportPort: 29300, heapMb: 512 } as const;

/** The URL of the test cluster. */
export async function ensureTestOpenSearch(): Promise<string> {
  return process.env.TANDEM_TEST_OPENSEARCH || (await startOpenSearch({ ...TEST_INSTANCE })).url;
}

/** A fresh index name per call, so test files never see each other's documents. */
export function testIndexName(): string {
  return `t_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}
