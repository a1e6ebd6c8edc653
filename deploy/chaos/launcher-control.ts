// The control endpoint of a running `tandem up` (HTTP on 127.0.0.1, a free port, written to the
// run state): what another shell cannot do by itself because the launcher owns the processes and
// their output. POST /revive-region/<name> starts again what of the region is down (same ports,
// same data) and answers the lines saying what was done. Kills need no launcher: `tandem chaos`
// signals the pids of the run state directly.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Service } from '../../services/common/lifecycle.js';
import type { RunState } from './run-state.js';

export interface LauncherActions {
  /** Lines saying what was started; throws when there is no such region. */
  reviveRegion(region: string): Promise<string[]>;
}

export class LauncherControlServer implements Service {
  private server?: http.Server;

  constructor(
    private readonly state: RunState,
    private readonly topologyFile: string,
    /** The regions this launcher runs. */
    private readonly regions: string[],
    private readonly actions: LauncherActions,
  ) {}

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      const m = /^\/revive-region\/([^/]+)$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('POST /revive-region/<name>\n');
        return;
      }
      this.actions.reviveRegion(decodeURIComponent(m[1]!)).then(
        (lines) => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ lines }));
        },
        (err: Error) => {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: err.message }));
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    const { port } = server.address() as AddressInfo;
    this.state.writeLauncher({ pid: process.pid, control: `127.0.0.1:${port}`, topologyFile: this.topologyFile }, this.regions);
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    this.state.removeLauncher(this.regions);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Asks the running launcher to revive a region; throws when no launcher runs or the revival failed. */
export async function reviveRegion(state: RunState, region: string): Promise<string[]> {
  const launcher = state.liveLauncher(region);
  if (!launcher) throw new Error(`no tandem up runs region ${region} of this topology (no live launcher record in ${state.dir}); revive-region needs it`);
  const res = await fetch(`http://${launcher.control}/revive-region/${encodeURIComponent(region)}`, { method: 'POST', signal: AbortSignal.timeout(300_000) });
  const body = (await res.json()) as { lines?: string[]; error?: string };
  if (!res.ok) throw new Error(`revive-region ${region}: ${body.error ?? res.status}`);
  return body.lines ?? [];
}
