// The tandem.admin.v1 identity services a region serves on its frontend's port: IdentityService
// (`tandem user`, `tandem apikey`, `tandem audit`; the frontend lets only account admins call it
// when auth is on) and IdentityReplicationService (every record with its version, read by the
// other regions' IdentityReplicators).
import type * as grpc from '@grpc/grpc-js';
import { apiError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import { unaryHandler } from '../rpc/unary-handler.js';
import {
  IdentityReplicationServiceService,
  IdentityServiceService,
  type ApiKey,
  type CreateApiKeyRequest,
  type CreateApiKeyResponse,
  type CreateUserRequest,
  type CreateUserResponse,
  type DeleteApiKeyRequest,
  type DeleteUserRequest,
  type ListApiKeysRequest,
  type ListApiKeysResponse,
  type ListAuthAuditRequest,
  type ListAuthAuditResponse,
  type ListUsersResponse,
  type ReadIdentitiesResponse,
  type SetApiKeyDisabledRequest,
  type SetApiKeyDisabledResponse,
  type UpdateUserRequest,
  type UpdateUserResponse,
  type User,
} from '../../proto/gen/tandem/admin/v1/identity.js';
import type { AdminService } from '../namespaces/admin-service.js';
import type { ApiKeyView, IdentityDirectory, UserView } from './directory.js';

/** Audit entries per answer when the caller asks for none or too many. */
const MAX_AUDIT_ENTRIES = 1_000;

function userOut(u: UserView): User {
  return { name: u.name, role: u.role, namespacePermissions: { ...u.namespaces }, serviceAccount: u.serviceAccount, createdAtMs: BigInt(u.createdAtMs) };
}

function keyOut(k: ApiKeyView): ApiKey {
  return { id: k.id, owner: k.owner, description: k.description, createdAtMs: BigInt(k.createdAtMs), expiresAtMs: BigInt(k.expiresAtMs), disabled: k.disabled };
}

export function identityService(directory: IdentityDirectory, region: string, log: Logger): AdminService {
  const handlers = {
    createUser: async (req: CreateUserRequest): Promise<CreateUserResponse> => {
      if (!req.user) throw apiError('REQUIRED', 'user');
      const u = req.user;
      return { user: userOut(await directory.createUser(u.name, u.role, u.namespacePermissions, u.serviceAccount)) };
    },
    updateUser: async (req: UpdateUserRequest): Promise<UpdateUserResponse> => ({
      user: userOut(await directory.updateUser(req.name, req.role, req.setNamespacePermissions)),
    }),
    deleteUser: async (req: DeleteUserRequest) => {
      await directory.deleteUser(req.name);
      return {};
    },
    listUsers: async (): Promise<ListUsersResponse> => ({ users: (await directory.listUsers()).map(userOut) }),
    createApiKey: async (req: CreateApiKeyRequest): Promise<CreateApiKeyResponse> => {
      const { key, token } = await directory.createApiKey(req.owner, req.description, Number(req.ttlMs));
      return { key: keyOut(key), secret: token };
    },
    listApiKeys: async (req: ListApiKeysRequest): Promise<ListApiKeysResponse> => ({ keys: (await directory.listApiKeys(req.owner || undefined)).map(keyOut) }),
    setApiKeyDisabled: async (req: SetApiKeyDisabledRequest): Promise<SetApiKeyDisabledResponse> => ({
      key: keyOut(await directory.setApiKeyDisabled(req.id, req.disabled)),
    }),
    deleteApiKey: async (req: DeleteApiKeyRequest) => {
      await directory.deleteApiKey(req.id);
      return {};
    },
    listAuthAudit: async (req: ListAuthAuditRequest): Promise<ListAuthAuditResponse> => {
      if (req.limit < 0) throw apiError('INVALID_ARGUMENT', `limit must be >= 0, got ${req.limit}.`);
      const entries = await directory.store.listAuthAudit(req.limit > 0 ? Math.min(req.limit, MAX_AUDIT_ENTRIES) : MAX_AUDIT_ENTRIES);
      return { region, entries: entries.map((e) => ({ ...e, atMs: BigInt(e.atMs) })) };
    },
  };
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, fn] of Object.entries(handlers)) {
    implementation[name] = unaryHandler(name, fn as (req: unknown) => Promise<object>, log);
  }
  return { definition: IdentityServiceService as unknown as grpc.ServiceDefinition, implementation };
}

export function identityReplicationService(directory: IdentityDirectory, log: Logger): AdminService {
  const read = async (): Promise<ReadIdentitiesResponse> => {
    const records = [...(await directory.store.listIdentities('user')), ...(await directory.store.listIdentities('apikey'))];
    return { records: records.map((r) => ({ ...r, updatedAtMs: BigInt(r.updatedAtMs) })) };
  };
  return {
    definition: IdentityReplicationServiceService as unknown as grpc.ServiceDefinition,
    implementation: { readIdentities: unaryHandler('ReadIdentities', read, log) },
    // Key hashes are for other regions only: with TLS, a caller must present a peer certificate.
    peersOnly: true,
  };
}
