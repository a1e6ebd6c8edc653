// Server reflection (grpcurl, Temporal UI tooling) for the frontend and the global endpoint. Building
// it from the whole Temporal root costs about five seconds of CPU, which every such server paid
// before it listened (make dev, a region's restart, a revived region in a drill). So the reflection services are registered at
// once and built on the first reflection call, once per process, shared by every server.
import type * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { reflectionRoot } from './grpc-codec.js';

type Registrar = Pick<grpc.Server, 'addService'>;
type Registered = { service: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation }[];

/** What a ReflectionService registers (v1 and v1alpha), in its order, without a server. */
function registrations(reflection: ReflectionService): Registered {
  const registered: Registered = [];
  reflection.addToServer({ addService: (service, implementation) => void registered.push({ service, implementation }) });
  return registered;
}

const built = new Map<string, Registered>();
let shapes: Registered | undefined;

function reflectionFor(services: string[]): Registered {
  const key = services.join(',');
  let r = built.get(key);
  if (!r) built.set(key, (r = registrations(new ReflectionService(protoLoader.fromJSON(reflectionRoot.toJSON()), { services }))));
  return r;
}

/** Registers server reflection for `services`; the descriptors are built when first asked for. */
export function addReflection(server: Registrar, services: string[]): void {
  // The service definitions alone, from a reflection over nothing: milliseconds, once per process.
  shapes ??= registrations(new ReflectionService(protoLoader.fromJSON({ nested: {} }), { services: [] }));
  shapes.forEach(({ service, implementation }, i) => {
    const lazy: grpc.UntypedServiceImplementation = {};
    for (const method of Object.keys(implementation)) {
      lazy[method] = ((call: unknown, callback: unknown) => {
        const real = reflectionFor(services)[i]!.implementation[method] as (call: unknown, callback: unknown) => void;
        real(call, callback);
      }) as grpc.UntypedHandleCall;
    }
    server.addService(service, lazy);
  });
}
