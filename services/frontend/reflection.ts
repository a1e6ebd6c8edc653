// Server reflection (grpcurl, Temporal UI tooling). Building it from the whole Temporal root takes
// seconds, so it is built once per process and shared by every server.
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { reflectionRoot } from '../common/grpc-codec.js';

let cached: { key: string; service: ReflectionService } | undefined;

export function reflectionService(services: string[]): ReflectionService {
  const key = services.join(',');
  if (cached?.key !== key) {
    const pkg = protoLoader.fromJSON(reflectionRoot.toJSON());
    cached = { key, service: new ReflectionService(pkg, { services }) };
  }
  return cached.service;
}
