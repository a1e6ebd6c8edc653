// What each call on a frontend's port needs of its caller, by gRPC path. Reads need read on the
// namespace; anything that changes a workflow, or runs a worker (polls and responds: a read-only
// key must not be able to complete someone's tasks), needs write; changing a namespace or failing
// it over needs admin on it; registering namespaces, clusters, users and keys needs the account
// role admin. Region-to-region services carry no key: with TLS they take only callers with a
// certificate of the regions' CA (services/common/tls.ts peersOnly).
import type { Access } from './model.js';

const WORKFLOW = 'temporal.api.workflowservice.v1.WorkflowService';
const OPERATOR = 'temporal.api.operatorservice.v1.OperatorService';

const AUTHENTICATED: Access = { kind: 'authenticated' };
const ACCOUNT_ADMIN: Access = { kind: 'account-admin' };
const READ: Access = { kind: 'namespace', level: 'read' };
const WRITE: Access = { kind: 'namespace', level: 'write' };
const NAMESPACE_ADMIN: Access = { kind: 'namespace', level: 'admin' };

/** Calls that are not namespace-scoped, or that every key may make. */
const EXPLICIT: Record<string, Access> = {
  [`${WORKFLOW}/GetSystemInfo`]: AUTHENTICATED,
  [`${WORKFLOW}/GetClusterInfo`]: AUTHENTICATED,
  [`${WORKFLOW}/ListNamespaces`]: AUTHENTICATED,
  [`${WORKFLOW}/RegisterNamespace`]: ACCOUNT_ADMIN,
  [`${WORKFLOW}/DeprecateNamespace`]: ACCOUNT_ADMIN,
  [`${WORKFLOW}/UpdateNamespace`]: NAMESPACE_ADMIN,
  [`${WORKFLOW}/CreateWorkflowRule`]: NAMESPACE_ADMIN,
  [`${WORKFLOW}/DeleteWorkflowRule`]: NAMESPACE_ADMIN,
  [`${WORKFLOW}/QueryWorkflow`]: READ,
  [`${WORKFLOW}/PollWorkflowExecutionUpdate`]: READ,
  [`${WORKFLOW}/PollActivityExecution`]: READ,
  [`${WORKFLOW}/PollNexusOperationExecution`]: READ,
  [`${WORKFLOW}/PollWorkflowExecutionTimeSkipping`]: READ,
  [`${WORKFLOW}/ValidateWorkerDeploymentVersionComputeConfig`]: READ,
  [`${OPERATOR}/ListSearchAttributes`]: READ,
  [`${OPERATOR}/AddSearchAttributes`]: NAMESPACE_ADMIN,
  [`${OPERATOR}/RemoveSearchAttributes`]: NAMESPACE_ADMIN,
  [`${OPERATOR}/ListClusters`]: AUTHENTICATED,
  [`${OPERATOR}/GetNexusEndpoint`]: AUTHENTICATED,
  [`${OPERATOR}/ListNexusEndpoints`]: AUTHENTICATED,
  'tandem.admin.v1.FailoverService/FailoverNamespace': NAMESPACE_ADMIN,
  'tandem.admin.v1.FailoverAuditService/ListFailoverAudit': AUTHENTICATED,
};

/** Whole services: every method needs the account role admin, or no key at all. */
const SERVICES: Record<string, Access | 'internal'> = {
  [OPERATOR]: ACCOUNT_ADMIN,
  'tandem.admin.v1.IdentityService': ACCOUNT_ADMIN,
  'tandem.replication.v1.ReplicationAdminService': ACCOUNT_ADMIN,
  'tandem.admin.v1.NamespaceReplicationService': 'internal',
  'tandem.admin.v1.IdentityReplicationService': 'internal',
  'tandem.replication.v1.ReplicationService': 'internal',
  'grpc.health.v1.Health': 'internal',
  'grpc.reflection.v1alpha.ServerReflection': 'internal',
  'grpc.reflection.v1.ServerReflection': 'internal',
};

const READ_PREFIXES = /^(Describe|List|Count|Get|Scan|Fetch)/;

/**
 * What a call needs (path: `/service/Method` as gRPC has it), or 'internal' for calls that carry no key. A method of a service not named
 * here needs the account role admin, so a service added later is closed until it is classified.
 */
export function accessOf(path: string): Access | 'internal' {
  const name = path.startsWith('/') ? path.slice(1) : path;
  const explicit = EXPLICIT[name];
  if (explicit) return explicit;
  const [service = '', method = ''] = name.split('/');
  if (service === WORKFLOW) return READ_PREFIXES.test(method) ? READ : WRITE;
  return SERVICES[service] ?? ACCOUNT_ADMIN;
}
