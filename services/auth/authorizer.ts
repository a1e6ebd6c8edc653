// Who is calling and may they: the bearer key of the call's `authorization` header, looked up by
// its id (cached for cacheTtlMs, so a revocation, local or replicated, takes effect within that
// long), its secret checked against the stored hash, its expiry, its disabled flag and its owner;
// then the owner's role and grants against what the method needs (methods.ts).
import { apiError } from '../common/errors.js';
import type { IdentityDirectory } from './directory.js';
import { allows, describeAccess, type Access, type ApiKeyBody, type UserBody } from './model.js';
import { bearerToken, parseToken, secretMatches } from './secrets.js';

export interface AuthorizerConfig {
  /** How long a key's record (and its owner's) is used before it is read again. */
  cacheTtlMs: number;
  /** Keys cached at most; the oldest go first. Bounds what a flood of made-up key ids costs. */
  cacheMaxEntries: number;
}

export const authorizerDefaults: AuthorizerConfig = { cacheTtlMs: 2_000, cacheMaxEntries: 10_000 };

export interface Principal {
  /** `user:<name>` or `service:<name>`, for the audit log. */
  identity: string;
  keyId: string;
  user: UserBody;
}

interface Cached {
  readAtMs: number;
  key?: ApiKeyBody;
  owner?: UserBody;
}

export class Authorizer {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly directory: Pick<IdentityDirectory, 'getApiKey' | 'getUser'>,
    private readonly config: AuthorizerConfig = authorizerDefaults,
    private readonly now: () => number = Date.now,
  ) {}

  /** The caller of a call with this `authorization` header value; UNAUTHENTICATED otherwise. */
  async authenticate(authorization: string | undefined): Promise<Principal> {
    const token = bearerToken(authorization);
    if (!token) throw apiError('UNAUTHENTICATED', 'no API key: send the header `authorization: Bearer <key>` (the SDKs\' apiKey option).');
    const parsed = parseToken(token);
    // One message for malformed, unknown and wrong-secret keys: the answer tells a guesser nothing.
    const invalid = () => apiError('UNAUTHENTICATED', 'invalid API key.');
    if (!parsed) throw invalid();
    const { key, owner } = await this.lookup(parsed.id);
    if (!key || !secretMatches(parsed.secret, key.hash)) throw invalid();
    if (key.disabled) throw apiError('UNAUTHENTICATED', `API key ${parsed.id} is disabled.`);
    if (key.expiresAtMs <= this.now()) throw apiError('UNAUTHENTICATED', `API key ${parsed.id} expired at ${new Date(key.expiresAtMs).toISOString()}.`);
    if (!owner) throw apiError('UNAUTHENTICATED', `API key ${parsed.id} belongs to user ${key.owner}, who no longer exists.`);
    return { identity: `${owner.serviceAccount ? 'service' : 'user'}:${key.owner}`, keyId: parsed.id, user: owner };
  }

  /** PERMISSION_DENIED unless the principal may make a call that needs `access` on `namespace`. */
  authorize(principal: Principal, access: Access, namespace: string, method: string): void {
    if (allows(principal.user, access, namespace)) return;
    throw apiError('PERMISSION_DENIED', `${principal.identity} (role ${principal.user.role}) may not call ${method}: it needs ${describeAccess(access, namespace)}.`);
  }

  private async lookup(id: string): Promise<Cached> {
    const hit = this.cache.get(id);
    if (hit && this.now() - hit.readAtMs < this.config.cacheTtlMs) return hit;
    const key = await this.directory.getApiKey(id);
    const owner = key && (await this.directory.getUser(key.owner));
    const entry: Cached = { readAtMs: this.now(), key, owner };
    this.cache.delete(id);
    this.cache.set(id, entry);
    if (this.cache.size > this.config.cacheMaxEntries) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }
}
