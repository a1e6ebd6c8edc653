// Debian's chromium for the browser tests (playwright-core drives it; playwright's own browser
// download cannot reach its host here). Found at /usr/bin/chromium, else installed with apt-get
// when we are root, like redis-server (deploy/redis/launcher.ts).
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Another apt-get (a redis-server install in a parallel test) holds dpkg's lock for a while. */
const APT_LOCK_WAIT_S = 300;

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The path of Debian's chromium; installs the package when it is missing and we are root. */
export async function ensureChromium(log: (msg: string) => void = () => {}): Promise<string> {
  if (executable(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.getuid?.() !== 0) {
    throw new Error(`chromium is not installed at ${CHROMIUM_PATH}; install it with \`apt-get install -y chromium\` (as root)`);
  }
  log('chromium missing: installing the Debian package chromium');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const opts = { env, maxBuffer: 64 * 1024 * 1024 };
  const lock = ['-o', `DPkg::Lock::Timeout=${APT_LOCK_WAIT_S}`];
  try {
    await run('apt-get', [...lock, 'update'], opts);
    await run('apt-get', [...lock, 'install', '-y', '--no-install-recommends', 'chromium'], opts);
  } catch (err) {
    const e = err as Error & { stderr?: string };
    throw new Error(`apt-get could not install chromium: ${(e.stderr || e.message).trim().split('\n').slice(-5).join(' | ')}`);
  }
  if (!executable(CHROMIUM_PATH)) throw new Error(`apt-get installed chromium but ${CHROMIUM_PATH} is not there`);
  return CHROMIUM_PATH;
}
