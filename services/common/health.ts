// grpc.health.v1.Health: SERVING for the server ('') and the WorkflowService (the Go SDK checks it)
// between start() and stop(); Watch streams every change.
import * as grpc from '@grpc/grpc-js';
import { MalformedRequest, reflectionRoot, serviceDefinition } from './grpc-codec.js';

const ServingStatus = { SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } as const;
type Serving = (typeof ServingStatus)[keyof typeof ServingStatus];

export const healthDefinition = serviceDefinition(reflectionRoot.lookupService('grpc.health.v1.Health'));

interface HealthCheckRequest {
  service?: string;
}

export class HealthState {
  private readonly statuses = new Map<string, Serving>();
  private readonly watchers = new Set<(service: string) => void>();
  private readonly streams = new Set<grpc.ServerWritableStream<unknown, unknown>>();

  constructor(services: string[]) {
    for (const s of services) this.statuses.set(s, ServingStatus.NOT_SERVING);
  }

  setServing(serving: boolean): void {
    for (const s of this.statuses.keys()) {
      this.statuses.set(s, serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
      for (const w of this.watchers) w(s);
    }
  }

  /** Ends every Watch stream (after its last status), so a graceful shutdown need not wait for them. */
  endWatches(): void {
    for (const stream of this.streams) stream.end();
    this.streams.clear();
    this.watchers.clear();
  }

  private statusOf(service: string): Serving {
    return this.statuses.get(service) ?? ServingStatus.SERVICE_UNKNOWN;
  }

  implementation(): grpc.UntypedServiceImplementation {
    return {
      Check: (call: grpc.ServerUnaryCall<HealthCheckRequest | MalformedRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        if (call.request instanceof MalformedRequest) {
          return callback({ code: grpc.status.INVALID_ARGUMENT, details: `malformed request: ${call.request.reason}` });
        }
        const service = call.request.service ?? '';
        if (!this.statuses.has(service)) {
          return callback({ code: grpc.status.NOT_FOUND, details: `unknown service ${service}` });
        }
        callback(null, { status: this.statusOf(service) });
      },
      Watch: (call: grpc.ServerWritableStream<HealthCheckRequest | MalformedRequest, unknown>) => {
        if (call.request instanceof MalformedRequest) {
          call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: `malformed request: ${call.request.reason}` });
          return;
        }
        const service = call.request.service ?? '';
        let last: Serving | undefined;
        const push = (changed: string) => {
          if (changed !== service) return;
          const now = this.statusOf(service);
          if (now !== last) {
            last = now;
            call.write({ status: now });
          }
        };
        this.watchers.add(push);
        this.streams.add(call);
        call.on('cancelled', () => {
          this.watchers.delete(push);
          this.streams.delete(call);
        });
        push(service);
      },
    };
  }
}
