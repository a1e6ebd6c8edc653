// proto/gen is committed: this fails when it is not what `buf generate` makes of proto/ now
// (a .proto edited without regenerating, or a hand edit of generated code).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(repo, 'node_modules', '.bin');

function filesUnder(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const entry of fs.readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    files.set(path.relative(dir, full), fs.readFileSync(full, 'utf8'));
  }
  return files;
}

test('proto/gen is up to date with proto/ (regenerate: npx buf generate proto --template proto/buf.gen.yaml)', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'tandem-proto-'));
  try {
    execFileSync(path.join(bin, 'buf'), ['generate', 'proto', '--template', 'proto/buf.gen.yaml', '--output', out], {
      cwd: repo,
      env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH ?? ''}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const fresh = filesUnder(path.join(out, 'proto', 'gen'));
    const committed = filesUnder(path.join(repo, 'proto', 'gen'));
    assert.deepEqual([...committed.keys()].sort(), [...fresh.keys()].sort(), 'generated file list');
    for (const [file, text] of fresh) assert.ok(committed.get(file) === text, `proto/gen/${file} is out of date`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
