// Server and channel credentials from certificate files. With no TLS settings every endpoint stays
// plaintext. The files are watched (re-read every refreshMs, handed to grpc-js's certificate
// provider credentials), so a rotated certificate is served to, and presented on, the next
// connection without a restart; connections already open keep the certificate they were made with.
import fs from 'node:fs';
import { createSecureContext } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from './logger.js';

/** How often the files are read again when the settings do not say. */
export const DEFAULT_TLS_REFRESH_MS = 10_000;

/** A server's (or a client's) identity and the CA its peers' certificates must chain to. */
export interface TlsFiles {
  /** PEM certificate chain presented to peers. */
  certFile: string;
  /** PEM private key of certFile. */
  keyFile: string;
  /** PEM bundle of the CA certificates peers are checked against. */
  caFile: string;
  /** How often the files are re-read; default DEFAULT_TLS_REFRESH_MS. */
  refreshMs?: number;
}

/** What a client needs: the CA to check the server against, and its own identity for mutual TLS. */
export interface ClientTlsFiles {
  caFile: string;
  certFile?: string;
  keyFile?: string;
  refreshMs?: number;
}

export class TlsFileError extends Error {
  constructor(
    readonly file: string,
    what: string,
    cause: unknown,
  ) {
    super(`TLS ${what} file ${file} cannot be read: ${(cause as Error).message}`);
    this.name = 'TlsFileError';
  }
}

function read(file: string, what: string): Buffer {
  try {
    const pem = fs.readFileSync(file);
    if (!pem.includes('-----BEGIN ')) throw new Error('not a PEM file');
    return pem;
  } catch (err) {
    throw new TlsFileError(file, what, err);
  }
}

interface Loaded {
  ca: Buffer;
  identity?: { certificate: Buffer; privateKey: Buffer };
}

/**
 * Reads the files now (a missing or bad one fails the start, named) and again every refreshMs
 * while a server or channel uses them, handing grpc-js a new set only when it loads: a rotation
 * caught half-written (the key replaced, the certificate not yet) keeps the last good set,
 * where grpc-js's own file watcher would fail every handshake until its next read.
 */
class WatchedFiles implements grpc.experimental.CertificateProvider {
  private loaded: Loaded;
  private timer?: NodeJS.Timeout;
  private readonly caListeners = new Set<grpc.experimental.CaCertificateUpdateListener>();
  private readonly identityListeners = new Set<grpc.experimental.IdentityCertificateUpdateListener>();
  /** The last failed reload's message: a bad set is logged once, not at every read. */
  private failure?: string;

  constructor(
    private readonly files: ClientTlsFiles,
    private readonly log?: Logger,
  ) {
    this.loaded = this.load();
  }

  private load(): Loaded {
    const f = this.files;
    const ca = read(f.caFile, 'CA');
    if (!f.certFile || !f.keyFile) return { ca };
    const identity = { certificate: read(f.certFile, 'certificate'), privateKey: read(f.keyFile, 'private key') };
    try {
      createSecureContext({ ca, cert: identity.certificate, key: identity.privateKey });
    } catch (err) {
      throw new TlsFileError(f.certFile, `certificate (with key ${f.keyFile})`, err);
    }
    return { ca, identity };
  }

  private reload(): void {
    let next: Loaded;
    try {
      next = this.load();
    } catch (err) {
      const message = (err as Error).message;
      if (message !== this.failure) this.log?.warn({ err }, 'TLS files not reloaded; the last good certificates stay in use');
      this.failure = message;
      return;
    }
    this.failure = undefined;
    const was = this.loaded;
    this.loaded = next;
    if (!next.ca.equals(was.ca)) for (const l of this.caListeners) l({ caCertificate: next.ca });
    const changed = next.identity && (!next.identity.certificate.equals(was.identity!.certificate) || !next.identity.privateKey.equals(was.identity!.privateKey));
    if (changed) {
      this.log?.info({ certFile: this.files.certFile }, 'TLS certificate reloaded');
      for (const l of this.identityListeners) l(next.identity!);
    }
  }

  private watch(): void {
    this.timer ??= setInterval(() => this.reload(), this.files.refreshMs ?? DEFAULT_TLS_REFRESH_MS).unref();
  }

  private unwatch(): void {
    if (this.caListeners.size + this.identityListeners.size > 0) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }

  addCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.add(l);
    this.watch();
    process.nextTick(l, { caCertificate: this.loaded.ca });
  }

  removeCaCertificateListener(l: grpc.experimental.CaCertificateUpdateListener): void {
    this.caListeners.delete(l);
    this.unwatch();
  }

  addIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.add(l);
    this.watch();
    process.nextTick(l, this.loaded.identity ?? null);
  }

  removeIdentityCertificateListener(l: grpc.experimental.IdentityCertificateUpdateListener): void {
    this.identityListeners.delete(l);
    this.unwatch();
  }
}

/**
 * TLS server credentials that ask every client for a certificate without requiring one (SDK
 * clients have none); `peersOnly` services then take only callers whose certificate chains to
 * caFile. Plaintext without settings.
 */
export function serverCredentials(tls: TlsFiles | undefined, log?: Logger): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure();
  const files = new WatchedFiles(tls, log);
  // One provider in both places: grpc-js 1.14 passes its two provider arguments to the
  // constructor in swapped order, which is harmless only when they are the same.
  return grpc.experimental.createCertificateProviderServerCredentials(files, files, false);
}

/** Channel credentials checking the server against caFile, presenting certFile when given. Plaintext without settings. */
export function channelCredentials(tls: ClientTlsFiles | undefined, log?: Logger): grpc.ChannelCredentials {
  if (!tls) return grpc.credentials.createInsecure();
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    throw new TlsFileError(tls.certFile ?? tls.keyFile!, tls.certFile ? 'certificate (without its private key)' : 'private key (without its certificate)', new Error('both or neither must be set'));
  }
  const files = new WatchedFiles(tls, log);
  return grpc.experimental.createCertificateProviderChannelCredentials(files, tls.certFile ? files : null);
}

/** The options of the official SDKs' connections (Connection, NativeConnection): the CA, read once. */
export function sdkTls(tls: ClientTlsFiles | undefined): { serverRootCACertificate: Buffer } | undefined {
  if (!tls) return undefined;
  return { serverRootCACertificate: read(tls.caFile, 'CA') };
}

/** True when the call came over TLS with a client certificate that chains to the server's CA. */
export function verifiedPeer(call: { getAuthContext(): { sslPeerCertificate?: unknown } }): boolean {
  // grpc-js fills sslPeerCertificate only for an authorized (CA-verified) TLS peer.
  return call.getAuthContext().sslPeerCertificate !== undefined;
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerReadableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/**
 * The implementation of a service for other regions only: a caller without a verified client
 * certificate gets UNAUTHENTICATED before the handler runs.
 */
export function peersOnly(impl: grpc.UntypedServiceImplementation): grpc.UntypedServiceImplementation {
  const out: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(impl)) {
    const wrapped = (call: AnyCall, callback?: grpc.sendUnaryData<unknown>) => {
      if (verifiedPeer(call)) return (handler as (c: AnyCall, cb?: grpc.sendUnaryData<unknown>) => void)(call, callback);
      const refused: Partial<grpc.StatusObject> = {
        code: grpc.status.UNAUTHENTICATED,
        details: 'this service is for other regions: present a client certificate signed by the region CA',
      };
      if (callback) callback(refused);
      else call.emit('error', refused);
    };
    out[name] = wrapped as grpc.UntypedHandleCall;
  }
  return out;
}
