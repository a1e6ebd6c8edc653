// What a user and an API key are, and what a call needs. A user has an account role that gives
// it a level on every namespace (admin -> admin, developer -> write, read-only -> read) and
// per-namespace grants that raise it; an account admin alone manages users, keys, namespaces
// and clusters. Records are JSON bodies of persistence identity records (tombstones when deleted).
import { apiError } from '../common/errors.js';

export const ROLES = ['admin', 'developer', 'read-only'] as const;
export type Role = (typeof ROLES)[number];

export const LEVELS = ['read', 'write', 'admin'] as const;
export type Level = (typeof LEVELS)[number];

/** What a call needs of its caller. */
export type Access =
  /** Any valid key (GetSystemInfo, which every SDK calls on connect). */
  | { kind: 'authenticated' }
  /** At least `level` on the request's namespace. */
  | { kind: 'namespace'; level: Level }
  | { kind: 'account-admin' };

export interface UserBody {
  role: Role;
  namespaces: Record<string, Level>;
  serviceAccount: boolean;
  createdAtMs: number;
  deleted?: true;
}

export interface ApiKeyBody {
  owner: string;
  /** sha256 of the secret, hex (secrets.ts). */
  hash: string;
  description: string;
  createdAtMs: number;
  expiresAtMs: number;
  disabled: boolean;
  deleted?: true;
}

const ROLE_LEVEL: Record<Role, Level> = { admin: 'admin', developer: 'write', 'read-only': 'read' };

function rank(level: Level): number {
  return LEVELS.indexOf(level);
}

/** The caller's level on a namespace: its role's, raised by a grant on that namespace. */
export function levelOn(user: Pick<UserBody, 'role' | 'namespaces'>, namespace: string): Level {
  const granted = user.namespaces[namespace];
  const implied = ROLE_LEVEL[user.role];
  return granted !== undefined && rank(granted) > rank(implied) ? granted : implied;
}

export function allows(user: Pick<UserBody, 'role' | 'namespaces'>, access: Access, namespace: string): boolean {
  switch (access.kind) {
    case 'authenticated':
      return true;
    case 'account-admin':
      return user.role === 'admin';
    case 'namespace':
      return rank(levelOn(user, namespace)) >= rank(access.level);
  }
}

export function describeAccess(access: Access, namespace: string): string {
  switch (access.kind) {
    case 'authenticated':
      return 'a valid API key';
    case 'account-admin':
      return 'the account role admin';
    case 'namespace':
      return `${access.level} permission on namespace ${JSON.stringify(namespace)}`;
  }
}

export function parseRole(value: string): Role {
  const role = ROLES.find((r) => r === value);
  if (!role) throw apiError('INVALID_ARGUMENT', `role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(value)}.`);
  return role;
}

export function parseLevel(value: string): Level {
  const level = LEVELS.find((l) => l === value);
  if (!level) throw apiError('INVALID_ARGUMENT', `a namespace permission must be one of ${LEVELS.join(', ')}, got ${JSON.stringify(value)}.`);
  return level;
}

const NAME = /^[A-Za-z0-9._@+-]{1,128}$/;

export function checkName(value: string, what: string): string {
  if (!NAME.test(value)) throw apiError('INVALID_ARGUMENT', `${what} must be 1 to 128 letters, digits or . _ @ + -, got ${JSON.stringify(value)}.`);
  return value;
}
