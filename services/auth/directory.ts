// Users and API keys on a region's identity store: every write reads the record, gives it the
// next version (versions.ts) and stores it only if nothing newer landed in between; a lost race is
// retried from the fresh record. Deletions write tombstones so they replicate like any change.
import { apiError } from '../common/errors.js';
import type { IdentityKind, IdentityRecord, IdentityStore } from '../persistence/identity-store.js';
import { checkName, parseLevel, parseRole, type ApiKeyBody, type Level, type UserBody } from './model.js';
import { hashSecret, mintKey, parseToken } from './secrets.js';
import { nextVersion } from './versions.js';

const WRITE_ATTEMPTS = 5;

export interface UserView extends UserBody {
  name: string;
}

export interface ApiKeyView extends Omit<ApiKeyBody, 'hash'> {
  id: string;
}

export interface DirectoryConfig {
  /** A key created without a lifetime lives this long. */
  defaultKeyTtlMs: number;
  /** No key lives longer. */
  maxKeyTtlMs: number;
}

export const directoryDefaults: DirectoryConfig = {
  defaultKeyTtlMs: 90 * 24 * 3_600_000,
  maxKeyTtlMs: 2 * 365 * 24 * 3_600_000,
};

function parse<T>(rec: IdentityRecord | null): (T & { deleted?: true }) | undefined {
  if (!rec) return undefined;
  const body = JSON.parse(rec.body) as T & { deleted?: true };
  return body.deleted ? undefined : body;
}

function keyView(id: string, body: ApiKeyBody): ApiKeyView {
  const { hash: _hash, ...rest } = body;
  return { id, ...rest };
}

export class IdentityDirectory {
  constructor(
    readonly store: IdentityStore,
    private readonly tag: bigint,
    private readonly config: DirectoryConfig = directoryDefaults,
    private readonly now: () => number = Date.now,
  ) {}

  async getUser(name: string): Promise<UserView | undefined> {
    const body = parse<UserBody>(await this.store.getIdentity('user', name));
    return body && { name, ...body };
  }

  /** The key's stored body (with its hash), or undefined when unknown or deleted. */
  async getApiKey(id: string): Promise<ApiKeyBody | undefined> {
    return parse<ApiKeyBody>(await this.store.getIdentity('apikey', id));
  }

  async createUser(name: string, role: string, namespaces: Record<string, string>, serviceAccount: boolean): Promise<UserView> {
    checkName(name, 'a user name');
    const body: UserBody = { role: parseRole(role), namespaces: this.levels(namespaces), serviceAccount, createdAtMs: this.now() };
    await this.write('user', name, (current) => {
      if (current) throw apiError('ALREADY_EXISTS', `user ${name} already exists.`);
      return body;
    });
    return { name, ...body };
  }

  /** A new role (when given) and namespace grants; the level "none" removes a grant. */
  async updateUser(name: string, role: string, grants: Record<string, string>): Promise<UserView> {
    const body = await this.write<UserBody>('user', name, (current) => {
      if (!current) throw apiError('NOT_FOUND', `user ${name} does not exist.`);
      const namespaces = { ...current.namespaces };
      for (const [ns, level] of Object.entries(grants)) {
        if (level === 'none') delete namespaces[ns];
        else namespaces[checkName(ns, 'a namespace')] = parseLevel(level);
      }
      return { ...current, role: role ? parseRole(role) : current.role, namespaces };
    });
    return { name, ...body };
  }

  /** The user's keys stop working with it: the authorizer refuses a key whose owner is gone. */
  async deleteUser(name: string): Promise<void> {
    await this.write<UserBody>('user', name, (current) => {
      if (!current) throw apiError('NOT_FOUND', `user ${name} does not exist.`);
      return { ...current, deleted: true };
    });
  }

  async listUsers(): Promise<UserView[]> {
    const out: UserView[] = [];
    for (const rec of await this.store.listIdentities('user')) {
      const body = parse<UserBody>(rec);
      if (body) out.push({ name: rec.id, ...body });
    }
    return out;
  }

  /** The key and its bearer token, which is not kept: the caller shows it once. */
  async createApiKey(owner: string, description: string, ttlMs: number): Promise<{ key: ApiKeyView; token: string }> {
    if (!(await this.getUser(owner))) throw apiError('NOT_FOUND', `user ${owner} does not exist.`);
    if (!Number.isSafeInteger(ttlMs) || ttlMs < 0) throw apiError('INVALID_ARGUMENT', `ttl must be >= 0, got ${ttlMs}.`);
    if (ttlMs > this.config.maxKeyTtlMs) throw apiError('INVALID_ARGUMENT', `ttl ${ttlMs} ms exceeds the limit of ${this.config.maxKeyTtlMs} ms.`);
    const minted = mintKey();
    const createdAtMs = this.now();
    const body: ApiKeyBody = {
      owner,
      hash: minted.hash,
      description,
      createdAtMs,
      expiresAtMs: createdAtMs + (ttlMs || this.config.defaultKeyTtlMs),
      disabled: false,
    };
    await this.write('apikey', minted.id, (current) => {
      if (current) throw apiError('ALREADY_EXISTS', `API key ${minted.id} already exists.`);
      return body;
    });
    return { key: keyView(minted.id, body), token: minted.token };
  }

  /**
   * Stores a key whose token was made elsewhere (a topology's admin key file), unless a record of
   * it exists, deleted or not: a restart must not revive a key an admin disabled or deleted.
   * True when this call stored it.
   */
  async importApiKey(owner: string, token: string, description: string, ttlMs: number): Promise<boolean> {
    const parsed = parseToken(token);
    if (!parsed) throw apiError('INVALID_ARGUMENT', 'not an API key (tdm_<id>_<secret>).');
    if (await this.store.getIdentity('apikey', parsed.id)) return false;
    const createdAtMs = this.now();
    const body: ApiKeyBody = { owner, hash: hashSecret(parsed.secret), description, createdAtMs, expiresAtMs: createdAtMs + ttlMs, disabled: false };
    const now = this.now();
    return this.store.putIdentityIfNewer({ kind: 'apikey', id: parsed.id, version: nextVersion(undefined, now, this.tag), body: JSON.stringify(body), updatedAtMs: now });
  }

  async listApiKeys(owner?: string): Promise<ApiKeyView[]> {
    const out: ApiKeyView[] = [];
    for (const rec of await this.store.listIdentities('apikey')) {
      const body = parse<ApiKeyBody>(rec);
      if (body && (!owner || body.owner === owner)) out.push(keyView(rec.id, body));
    }
    return out;
  }

  async setApiKeyDisabled(id: string, disabled: boolean): Promise<ApiKeyView> {
    const body = await this.write<ApiKeyBody>('apikey', id, (current) => {
      if (!current) throw apiError('NOT_FOUND', `API key ${id} does not exist.`);
      return { ...current, disabled };
    });
    return keyView(id, body);
  }

  async deleteApiKey(id: string): Promise<void> {
    await this.write<ApiKeyBody>('apikey', id, (current) => {
      if (!current) throw apiError('NOT_FOUND', `API key ${id} does not exist.`);
      return { ...current, deleted: true };
    });
  }

  private levels(grants: Record<string, string>): Record<string, Level> {
    const out: Record<string, Level> = {};
    for (const [ns, level] of Object.entries(grants)) out[checkName(ns, 'a namespace')] = parseLevel(level);
    return out;
  }

  /** Read, change, store if still newest; `change` gets the live body (undefined when none or deleted). */
  private async write<T extends object>(kind: IdentityKind, id: string, change: (current: T | undefined) => T): Promise<T> {
    for (let attempt = 1; attempt <= WRITE_ATTEMPTS; attempt++) {
      const rec = await this.store.getIdentity(kind, id);
      const body = change(parse<T>(rec));
      const now = this.now();
      const written = await this.store.putIdentityIfNewer({ kind, id, version: nextVersion(rec?.version, now, this.tag), body: JSON.stringify(body), updatedAtMs: now });
      if (written) return body;
    }
    throw apiError('UNAVAILABLE', `${kind} ${id} keeps changing under this write; retry.`);
  }
}

