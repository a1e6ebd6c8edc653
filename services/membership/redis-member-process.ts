// A RedisMembership in a process of its own, for tests that crash (SIGKILL) or pause (SIGSTOP)
// a member: `tsx redis-member-process.ts '<RedisMembershipInput as JSON>'`. Prints "ready" once joined.
import { silentLogger } from '../common/logger.js';
import { RedisMembership, type RedisMembershipInput } from './redis.js';

const membership = new RedisMembership(JSON.parse(process.argv[2]!) as RedisMembershipInput, silentLogger());
await membership.start();
process.stdout.write('ready\n');
process.on('SIGTERM', () => void membership.stop().then(() => process.exit(0)));
