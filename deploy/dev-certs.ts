// `tandem certs dev`: a local CA and the certificates a topology's tls sections name, written where
// they name them. The CA's key is kept beside its certificate (`ca-key.pem` for `ca.pem`), so a
// second run re-issues every leaf under the same CA: a rotation the running processes pick up.
import fs from 'node:fs';
import path from 'node:path';
import { caFromPem, mintCa, type CertificateAuthority, type Pem } from '../services/common/certificates.js';
import type { Topology } from './topology.js';

export class DevCertsError extends Error {
  override name = 'DevCertsError';
}

/** The hosts every local server certificate is valid for, besides the one the topology binds. */
const LOCAL_HOSTS = ['127.0.0.1', 'localhost'];

export function caKeyFileOf(caFile: string): string {
  return caFile.replace(/(\.pem)?$/, '-key.pem');
}

/** Writes whole files by rename, so a process re-reading them never sees half of one; keys readable by the owner only. */
function write(file: string, text: string, secret: boolean): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: secret ? 0o600 : 0o644 });
  fs.renameSync(tmp, file);
}

function loadCa(caFile: string): CertificateAuthority | undefined {
  const keyFile = caKeyFileOf(caFile);
  if (!fs.existsSync(caFile) || !fs.existsSync(keyFile)) return undefined;
  return caFromPem({ cert: fs.readFileSync(caFile, 'utf8'), key: fs.readFileSync(keyFile, 'utf8') });
}

export interface DevCertsOptions {
  /** Mint a new CA even when one is there (peers holding the old one stop trusting the new certificates). */
  newCa?: boolean;
}

/**
 * Issues every certificate of the topology's tls sections (frontends: their host and the local
 * names; clients: for mutual TLS between regions; the global endpoint) under the topology's CA,
 * minting it when missing. Returns the files written.
 */
export function writeDevCertificates(t: Topology, o: DevCertsOptions = {}): string[] {
  const regions = t.regions.filter((r) => r.tls);
  const endpoint = t.global.endpoint;
  if (regions.length === 0 || !endpoint.tls) throw new DevCertsError('the topology has no tls sections: nothing to issue (see deploy/local/two-regions-tls.json)');
  const written: string[] = [];
  const cas = new Map<string, CertificateAuthority>();
  const caFor = (caFile: string): CertificateAuthority => {
    let ca = cas.get(caFile) ?? (o.newCa ? undefined : loadCa(caFile));
    if (!ca) {
      ca = mintCa('Tandem local CA');
      write(caFile, ca.cert, false);
      write(caKeyFileOf(caFile), ca.key, true);
      written.push(caFile, caKeyFileOf(caFile));
    }
    cas.set(caFile, ca);
    return ca;
  };
  const put = (pem: Pem, certFile: string, keyFile: string) => {
    write(keyFile, pem.key, true);
    write(certFile, pem.cert, false);
    written.push(certFile, keyFile);
  };
  const hosts = (host: string) => [...new Set([host, ...LOCAL_HOSTS])].filter((h) => h !== '0.0.0.0');
  for (const r of regions) {
    const tls = r.tls!;
    const ca = caFor(tls.caFile);
    put(ca.issue({ commonName: `${r.name}-frontend`, hosts: hosts(r.frontend.host), usage: ['server'] }), tls.certFile, tls.keyFile);
    put(ca.issue({ commonName: `region ${r.name}`, usage: ['client'] }), tls.clientCertFile, tls.clientKeyFile);
  }
  const tls = endpoint.tls;
  put(caFor(tls.caFile).issue({ commonName: 'global-endpoint', hosts: hosts(endpoint.host), usage: ['server'] }), tls.certFile, tls.keyFile);
  return written;
}
