// What the TLS tests share: the serial number of the certificate a server presents to a new
// connection (how a test sees a rotation picked up), and a client certificate from a CA nobody trusts.
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { mintCa } from '../services/common/certificates.js';
import type { ClientTlsFiles } from '../services/common/tls.js';

export function servedSerial(address: string, ca: Buffer): Promise<string> {
  const [host, port] = address.split(':');
  return new Promise((resolve, reject) => {
    // servername: SNI takes a name, not an IP; the certificates hold localhost too.
    const socket = tls.connect({ host, port: Number(port), ca, servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      resolve(socket.getPeerCertificate().serialNumber);
      socket.end();
    });
    socket.on('error', reject);
  });
}

/** A region's client settings (trusting caFile) whose certificate another CA signed, written in dir. */
export function rogueRegion(dir: string, caFile: string): ClientTlsFiles {
  const pem = mintCa('another CA').issue({ commonName: 'region b', usage: ['client'] });
  const files = { caFile, certFile: path.join(dir, 'rogue.pem'), keyFile: path.join(dir, 'rogue-key.pem') };
  fs.writeFileSync(files.certFile, pem.cert);
  fs.writeFileSync(files.keyFile, pem.key);
  return files;
}
