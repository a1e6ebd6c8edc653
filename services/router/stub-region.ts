// For tests only: a region's frontend reduced to a grpc-js server that records every call it gets
// and answers what the test says. The unit under test is the proxy, so the region only has to
// speak gRPC; the end-to-end test puts the router in front of a real region.
import * as grpc from '@grpc/grpc-js';
import { bindInsecure } from '../common/grpc-server.js';
import { encodeMessage, reflectionRoot, requestType, responseType } from '../common/grpc-codec.js';
import { WORKFLOW_SERVICE, proxiedMethods, rawDefinition } from './proxied-methods.js';

export interface RecordedCall {
  method: string;
  request: Buffer;
  metadata: grpc.Metadata;
  /** ms since epoch, Infinity when the caller set none. */
  deadline: number;
}

export type StubAnswer = { response: Buffer; trailers?: grpc.Metadata } | { error: Partial<grpc.StatusObject> };
export type StubHandler = (call: grpc.ServerUnaryCall<Buffer, Buffer>, recorded: RecordedCall) => Promise<StubAnswer>;

const workflowService = reflectionRoot.lookupService(WORKFLOW_SERVICE);

/** Encodes a request of a WorkflowService method from a plain object. */
export function encodeRequest(method: string, value: object): Buffer {
  return encodeMessage(requestType(workflowService.methods[method]!), value);
}

export function encodeResponse(method: string, value: object): Buffer {
  return encodeMessage(responseType(workflowService.methods[method]!), value);
}

export function decodeResponse(method: string, bytes: Buffer): Record<string, unknown> {
  const type = responseType(workflowService.methods[method]!);
  return type.toObject(type.decode(bytes), { longs: Number }) as Record<string, unknown>;
}

export class StubRegion {
  readonly calls: RecordedCall[] = [];
  readonly handlers = new Map<string, StubHandler>();
  private server?: grpc.Server;
  port = 0;

  constructor(readonly name: string) {}

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  callsOf(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** (Re)starts on the same port after kill(), like a region that comes back. */
  async start(): Promise<void> {
    const server = new grpc.Server();
    const methods = proxiedMethods(WORKFLOW_SERVICE);
    const impl: grpc.UntypedServiceImplementation = {};
    for (const m of methods) {
      impl[m.name] = (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        const d = call.getDeadline();
        const recorded = { method: m.name, request: call.request, metadata: call.metadata, deadline: d instanceof Date ? d.getTime() : d };
        this.calls.push(recorded);
        const answerEmpty: StubHandler = async () => ({ response: encodeResponse(m.name, {}) });
        const handler = this.handlers.get(m.name) ?? answerEmpty;
        handler(call, recorded).then(
          (a) => ('error' in a ? callback(a.error) : callback(null, a.response, a.trailers)),
          (err: Error) => callback({ code: grpc.status.INTERNAL, details: err.message }),
        );
      };
    }
    server.addService(rawDefinition(methods), impl);
    this.port = await bindInsecure(server, '127.0.0.1', this.port);
    this.server = server;
  }

  /** The region dies: every connection and call in flight is cut. */
  kill(): void {
    this.server?.forceShutdown();
    this.server = undefined;
  }
}
