// tandem user create|update|delete|list: users and service accounts, their account role (admin,
// developer, read-only) and per-namespace permissions (admin, write, read), over
// tandem.admin.v1.IdentityService on a region's frontend.
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CreateUserResponse, ListUsersResponse, UpdateUserResponse, User } from '../proto/gen/tandem/admin/v1/identity.js';
import { LEVELS, ROLES } from '../services/auth/model.js';
import { examples } from './help.js';
import { identityCall, printTable, withIdentityOptions, type IdentityOptions } from './identity-rpc.js';

interface UserOptions extends IdentityOptions {
  role?: string;
  namespace: Record<string, string>;
  serviceAccount: boolean;
  json: boolean;
}

/** --namespace ns=level, repeatable. */
function grant(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const m = /^([^=]+)=(.+)$/.exec(value);
  if (!m || ![...LEVELS, 'none'].includes(m[2]!)) throw new InvalidArgumentError(`must be namespace=${LEVELS.join('|')} (none removes the grant on update).`);
  return { ...previous, [m[1]!]: m[2]! };
}

function userJson(u: User) {
  return { name: u.name, role: u.role, namespaces: u.namespacePermissions, serviceAccount: u.serviceAccount, createdAt: new Date(Number(u.createdAtMs)).toISOString() };
}

export function userCommand(program: Command): void {
  const user = program.command('user').description('users and service accounts: account roles and per-namespace permissions');
  examples(user, ['tandem user create ann --role developer --api-key $ADMIN_KEY', 'tandem user list']);
  const namespaceOption = () => new Option('--namespace <ns=level>', 'a per-namespace permission (admin, write, read), repeatable').argParser(grant).default({});

  const create = withIdentityOptions(user.command('create').description('create a user (or with --service-account, a service account)').argument('<name>'))
    .addOption(new Option('--role <role>', 'the account role').choices([...ROLES]).makeOptionMandatory())
    .addOption(namespaceOption())
    .option('--service-account', 'an account for programs rather than a person', false)
    .action(async (name: string, o: UserOptions) => {
      const r = await identityCall<CreateUserResponse>(o, (c, m, cb) =>
        c.createUser({ user: { name, role: o.role!, namespacePermissions: o.namespace, serviceAccount: o.serviceAccount, createdAtMs: 0n } }, m, cb),
      );
      console.log(JSON.stringify(userJson(r.user!)));
    });
  examples(create, [
    'tandem user create ann --role developer --api-key $ADMIN_KEY',
    'tandem user create ci --role read-only --namespace orders=write --service-account  # writes in orders only',
  ]);

  const update = withIdentityOptions(user.command('update').description("change a user's role or namespace permissions").argument('<name>'))
    .addOption(new Option('--role <role>', 'the new account role').choices([...ROLES]))
    .addOption(namespaceOption())
    .action(async (name: string, o: UserOptions) => {
      const r = await identityCall<UpdateUserResponse>(o, (c, m, cb) => c.updateUser({ name, role: o.role ?? '', setNamespacePermissions: o.namespace }, m, cb));
      console.log(JSON.stringify(userJson(r.user!)));
    });
  examples(update, ['tandem user update ann --role read-only --namespace orders=admin --namespace legacy=none']);

  const del = withIdentityOptions(user.command('delete').description('delete a user; its API keys stop working').argument('<name>')).action(async (name: string, o: UserOptions) => {
    await identityCall(o, (c, m, cb) => c.deleteUser({ name }, m, cb));
    console.log(`deleted user ${name}`);
  });
  examples(del, ['tandem user delete ann']);

  const list = withIdentityOptions(user.command('list').description('every user and service account'))
    .option('--json', 'print JSON instead of a table', false)
    .action(async (o: UserOptions) => {
      const r = await identityCall<ListUsersResponse>(o, (c, m, cb) => c.listUsers({}, m, cb));
      const users = r.users.map(userJson);
      if (o.json) {
        console.log(JSON.stringify(users, null, 2));
        return;
      }
      printTable(
        ['NAME', 'ROLE', 'KIND', 'NAMESPACES'],
        users.map((u) => [u.name, u.role, u.serviceAccount ? 'service' : 'user', Object.entries(u.namespaces).map(([ns, l]) => `${ns}=${l}`).join(',')]),
      );
    });
  examples(list, ['tandem user list --address 127.0.0.1:7302  # region b: the same users']);
}
