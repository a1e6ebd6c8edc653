// npx tsx deploy/chromium/cli.ts install — what `make chromium-install` runs before the tests.
import { runCli } from '../daemon.js';
import { ensureChromium } from './ensure.js';

async function main(): Promise<number> {
  if (process.argv[2] !== 'install') {
    process.stderr.write('usage: cli.ts install\n');
    return 2;
  }
  console.log(JSON.stringify({ chromium: await ensureChromium((msg) => process.stderr.write(`${msg}\n`)) }));
  return 0;
}

runCli(main);
