// Minting a CA and the certificates it signs (node-forge, so no openssl binary is needed): what
// `tandem certs dev` writes for the local topologies and what the TLS tests rotate.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export interface Pem {
  cert: string;
  key: string;
}

export interface CertificateAuthority extends Pem {
  /** Signs a leaf certificate. */
  issue(spec: LeafSpec): Pem;
}

export interface LeafSpec {
  commonName: string;
  /** DNS names and IP addresses the certificate is valid for (servers; clients may have none). */
  hosts?: string[];
  /** serverAuth, clientAuth or both. */
  usage: ('server' | 'client')[];
  validDays?: number;
}

const KEY_BITS = 2048;

/** Node's native RSA key generation: forge's own, in JavaScript, takes seconds per key. */
function newKeys(): { publicKey: forge.pki.rsa.PublicKey; privateKey: forge.pki.rsa.PrivateKey } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: KEY_BITS,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { publicKey: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey, privateKey: forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey };
}
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

function newCertificate(commonName: string, publicKey: forge.pki.PublicKey, validDays: number): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  // A positive serial: the high bit clear, or some parsers read it as negative.
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`;
  const now = Date.now();
  // Backdated a little so a peer whose clock is slightly behind accepts it at once.
  cert.validity.notBefore = new Date(now - 60_000);
  cert.validity.notAfter = new Date(now + validDays * 86_400_000);
  cert.setSubject([{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'Tandem' }]);
  return cert;
}

/** A new self-signed CA with its own key. */
export function mintCa(commonName: string, validDays = 3650): CertificateAuthority {
  const keys = newKeys();
  const cert = newCertificate(commonName, keys.publicKey, validDays);
  cert.setIssuer(cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return authority(cert, keys.privateKey);
}

/** A CA minted earlier, from its certificate and key. */
export function caFromPem(pem: Pem): CertificateAuthority {
  return authority(forge.pki.certificateFromPem(pem.cert), forge.pki.privateKeyFromPem(pem.key));
}

function authority(cert: forge.pki.Certificate, key: forge.pki.rsa.PrivateKey): CertificateAuthority {
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(key), issue: (spec) => issue(cert, key, spec) };
}

function issue(caCert: forge.pki.Certificate, caKey: forge.pki.rsa.PrivateKey, spec: LeafSpec): Pem {
  const keys = newKeys();
  const cert = newCertificate(spec.commonName, keys.publicKey, spec.validDays ?? 825);
  cert.setIssuer(caCert.subject.attributes);
  const altNames = (spec.hosts ?? []).map((h) => (IPV4.test(h) ? { type: 7, ip: h } : { type: 2, value: h }));
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: spec.usage.includes('server'), clientAuth: spec.usage.includes('client') },
    ...(altNames.length ? [{ name: 'subjectAltName', altNames }] : []),
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}
