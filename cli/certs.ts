// tandem certs dev [--topology FILE] [--new-ca]
// A local CA and every certificate the topology's tls sections name (frontends, the regions'
// client certificates for mutual TLS, the global endpoint), written where they name them. Run
// again to re-issue them under the same CA: running processes pick the new files up.
import path from 'node:path';
import { Option, type Command } from 'commander';
import { writeDevCertificates } from '../deploy/dev-certs.js';
import { examples } from './help.js';
import { topologyOf } from './topology.js';

const DEFAULT_TOPOLOGY = 'deploy/local/two-regions-tls.json';

function dev(o: { topology: string; newCa: boolean }, command: Command): void {
  const { topology } = topologyOf(o, command);
  for (const file of writeDevCertificates(topology, { newCa: o.newCa })) console.log(`wrote ${path.relative(process.cwd(), file)}`);
}

export function certsCommand(program: Command): void {
  const certs = program.command('certs').description('certificates for running with TLS');
  examples(certs, ['tandem certs dev  # a local CA and the certificates of deploy/local/two-regions-tls.json']);
  const command = certs
    .command('dev')
    .description("mint a local CA (kept) and issue the certificates a topology's tls sections name; run again to rotate them")
    .addOption(new Option('--topology <file>', 'the topology whose tls sections name the files').default(path.resolve(DEFAULT_TOPOLOGY), DEFAULT_TOPOLOGY).argParser((f) => path.resolve(f)))
    .option('--new-ca', 'mint a new CA even if the topology has one (processes trusting the old one refuse the new certificates)', false)
    .action(dev);
  examples(command, [
    'tandem certs dev  # deploy/local/certs/ for deploy/local/two-regions-tls.json',
    'tandem up --topology deploy/local/two-regions-tls.json',
    'tandem certs dev --topology my-topology.json --new-ca',
  ]);
}
