// The methods the router proxies (Temporal's WorkflowService and OperatorService), as grpc-js
// definitions whose (de)serializers are identity on Buffers: the request's bytes go to the region
// and the region's bytes come back, never re-encoded. Per method, what the router reads of a request.
import type * as grpc from '@grpc/grpc-js';
import { encodeMessage, reflectionRoot, requestType, responseType, type PbMethod } from '../common/grpc-codec.js';
import { scanFields } from './request-fields.js';

export const WORKFLOW_SERVICE = 'temporal.api.workflowservice.v1.WorkflowService';
export const OPERATOR_SERVICE = 'temporal.api.operatorservice.v1.OperatorService';

/** Task polls: a region answers an empty message when nothing came before its deadline. */
const TASK_POLLS = new Set(['PollWorkflowTaskQueue', 'PollActivityTaskQueue', 'PollNexusTaskQueue']);
/** History long poll (with wait_new_event): a region answers an empty page that carries the page token. */
const HISTORY_POLL = 'GetWorkflowExecutionHistory';

export interface ProxiedCall {
  /** '' when the request has no namespace field or leaves it empty. */
  namespace: string;
  /** The call is a long poll: it keeps the caller's deadline and is answered empty rather than failed when cut. */
  longPoll: boolean;
  /** What a region answers a long poll that found nothing (only read for long polls). */
  emptyAnswer(): Buffer;
}

export interface ProxiedMethod {
  service: string;
  name: string;
  path: string;
  read(request: Buffer): ProxiedCall;
}

function fieldId(method: PbMethod, name: string): number | undefined {
  return requestType(method).fields[name]?.id;
}

function proxiedMethod(service: string, method: PbMethod): ProxiedMethod {
  const namespaceId = fieldId(method, 'namespace');
  const waitId = method.name === HISTORY_POLL ? fieldId(method, 'waitNewEvent') : undefined;
  const tokenId = method.name === HISTORY_POLL ? fieldId(method, 'nextPageToken') : undefined;
  const wanted = new Set([namespaceId, waitId, tokenId].filter((id): id is number => id !== undefined));
  const taskPoll = TASK_POLLS.has(method.name);
  const resType = responseType(method);
  return {
    service,
    name: method.name,
    path: `/${service}/${method.name}`,
    read(request) {
      const fields = wanted.size > 0 ? scanFields(request, wanted) : new Map();
      const ns = namespaceId === undefined ? undefined : fields.get(namespaceId);
      const token = tokenId === undefined ? undefined : fields.get(tokenId);
      return {
        namespace: Buffer.isBuffer(ns) ? ns.toString('utf8') : '',
        longPoll: taskPoll || (waitId !== undefined && (fields.get(waitId) ?? 0) !== 0),
        // The page token echoed: the client asks again from where it was.
        emptyAnswer: () => (taskPoll ? Buffer.alloc(0) : encodeMessage(resType, Buffer.isBuffer(token) ? { nextPageToken: token } : {})),
      };
    },
  };
}

/** Every unary method of the service (both services have only unary methods today). */
export function proxiedMethods(service: string): ProxiedMethod[] {
  return reflectionRoot
    .lookupService(service)
    .methodsArray.filter((m) => !m.requestStream && !m.responseStream)
    .map((m) => proxiedMethod(service, m));
}

const identity = (b: Buffer) => b;

export function rawDefinition(methods: ProxiedMethod[]): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const m of methods) {
    def[m.name] = {
      path: m.path,
      requestStream: false,
      responseStream: false,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
      originalName: m.name,
    };
  }
  return def;
}
