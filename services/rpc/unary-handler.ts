// One unary method of a ts-proto service served by an async function: its TandemError (or any
// error) answered as status + trailers (error-trailers.ts), so the caller rebuilds the same error.
import type * as grpc from '@grpc/grpc-js';
import type { Logger } from '../common/logger.js';
import { toServiceStatus } from './error-trailers.js';

export function unaryHandler<Req, Res>(method: string, fn: (req: Req) => Promise<Res>, log: Logger): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request).then(
      (res) => callback(null, res),
      (err: unknown) => callback(toServiceStatus(err, method, log), null),
    );
  };
}
