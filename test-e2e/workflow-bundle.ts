// One webpack bundle of a workflows entry for every worker of every test file. Bundling costs
// seconds of CPU, and `Worker.create({ workflowsPath })` pays it again for each worker; the test
// files of one `make test` (some run side by side) share a bundle cached on disk, keyed by the
// SDK's version and the sources beside the entry, so a changed workflow is bundled afresh.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const workflowsPath = path.join(root, 'test-e2e', 'workflows', 'index.ts');
const cacheDir = path.join(root, '.tandem', 'test-cache');

const bundles = new Map<string, Promise<WorkflowBundleWithSourceMap>>();

/** The bundle of a workflows entry (test-e2e/workflows by default), bundled once per change of its sources. */
export function workflowBundle(entry = workflowsPath): Promise<WorkflowBundleWithSourceMap> {
  let bundle = bundles.get(entry);
  if (!bundle) bundles.set(entry, (bundle = cachedBundle(entry)));
  return bundle;
}

/** Workflow code imports only its own folder's files and packages (activities as types only). */
function sourcesKey(entry: string): string {
  const hash = createHash('sha256');
  const sdk = createRequire(import.meta.url)('@temporalio/worker/package.json') as { version: string };
  hash.update(`${sdk.version}\0${entry}`);
  const dir = path.dirname(entry);
  for (const name of fs.readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) {
    hash.update(name);
    hash.update(fs.readFileSync(path.join(dir, name)));
  }
  return hash.digest('hex').slice(0, 16);
}

async function cachedBundle(entry: string): Promise<WorkflowBundleWithSourceMap> {
  const file = path.join(cacheDir, `${path.basename(entry, '.ts')}-${sourcesKey(entry)}.json`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as WorkflowBundleWithSourceMap;
  } catch {
    // Not bundled yet (or a torn file from a killed run): bundle and publish it.
  }
  const fresh = await bundleWorkflowCode({ workflowsPath: entry, logger: new DefaultLogger('ERROR') });
  fs.mkdirSync(cacheDir, { recursive: true });
  // Written aside and renamed, so a file running beside this one reads a whole bundle or none.
  const tmp = `${file}.${randomBytes(4).toString('hex')}`;
  fs.writeFileSync(tmp, JSON.stringify({ code: fresh.code, sourceMap: fresh.sourceMap }));
  fs.renameSync(tmp, file);
  return fresh;
}
