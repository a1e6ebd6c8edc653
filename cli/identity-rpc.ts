// What `tandem user`, `tandem apikey` and `tandem audit` share: the region frontend they talk to
// (tandem.admin.v1.IdentityService is served by every region, not by the global endpoint; a change
// made in one region replicates to the others) and the admin API key they call with.
import * as grpc from '@grpc/grpc-js';
import { Option, type Command } from 'commander';
import { IdentityServiceClient } from '../proto/gen/tandem/admin/v1/identity.js';
import { hostPort, tlsCaOption } from './options.js';
import { API_KEY_ENV, apiKeyMetadata, atAddress, credentialsFor, type Target } from './rpc.js';

/** make dev's region a. */
export const DEFAULT_REGION_ADDRESS = '127.0.0.1:7301';

export interface IdentityOptions extends Target {
  apiKey?: string;
}

export function withIdentityOptions(command: Command): Command {
  return command
    .addOption(new Option('--address <host:port>', "a region's frontend (any region: changes replicate)").default(DEFAULT_REGION_ADDRESS).argParser(hostPort))
    .addOption(new Option('--api-key <key>', 'an account admin\'s API key (when the cluster runs with auth)').env(API_KEY_ENV))
    .addOption(tlsCaOption());
}

/** The call's answer, with the key as `authorization: Bearer`; a gRPC failure becomes an RpcFailure. */
export async function identityCall<Res>(
  o: IdentityOptions,
  call: (client: IdentityServiceClient, metadata: grpc.Metadata, cb: (err: grpc.ServiceError | null, res: Res) => void) => unknown,
): Promise<Res> {
  const client = new IdentityServiceClient(o.address, credentialsFor(o));
  const metadata = apiKeyMetadata(o.apiKey);
  try {
    return await atAddress(o.address, () => new Promise<Res>((resolve, reject) => call(client, metadata, (err, res) => (err ? reject(err) : resolve(res)))));
  } finally {
    client.close();
  }
}

/** Rows as aligned columns under a header, the last column unpadded. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
}
