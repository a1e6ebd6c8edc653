// tandem apikey create|list|disable|enable|delete: API keys of users and service accounts. The
// secret is printed once by create; the server keeps only its hash.
import { Option, type Command } from 'commander';
import type { ApiKey, CreateApiKeyResponse, ListApiKeysResponse, SetApiKeyDisabledResponse } from '../proto/gen/tandem/admin/v1/identity.js';
import { examples } from './help.js';
import { identityCall, printTable, withIdentityOptions, type IdentityOptions } from './identity-rpc.js';
import { durationMs } from './options.js';

interface KeyOptions extends IdentityOptions {
  owner?: string;
  description: string;
  ttl?: number;
  json: boolean;
}

function keyJson(k: ApiKey) {
  return {
    id: k.id,
    owner: k.owner,
    description: k.description,
    createdAt: new Date(Number(k.createdAtMs)).toISOString(),
    expiresAt: new Date(Number(k.expiresAtMs)).toISOString(),
    disabled: k.disabled,
  };
}

export function apikeyCommand(program: Command): void {
  const apikey = program.command('apikey').description('API keys: what SDKs send as `authorization: Bearer <key>` (their apiKey option)');
  examples(apikey, ['tandem apikey create --owner ann --api-key $ADMIN_KEY', 'tandem apikey disable 3f9c0a1b2c3d4e5f']);

  const create = withIdentityOptions(apikey.command('create').description("create a key for a user or service account and print its secret (shown this once)"))
    .addOption(new Option('--owner <user>', 'the user or service account the key acts as').makeOptionMandatory())
    .option('--description <text>', 'what the key is for', '')
    .addOption(new Option('--ttl <duration>', 'how long the key lives, e.g. 30d (default: the server\'s, 90d)').argParser(durationMs))
    .action(async (o: KeyOptions) => {
      const r = await identityCall<CreateApiKeyResponse>(o, (c, m, cb) => c.createApiKey({ owner: o.owner!, description: o.description, ttlMs: BigInt(o.ttl ?? 0) }, m, cb));
      console.log(JSON.stringify(keyJson(r.key!)));
      console.log(`api key: ${r.secret}`);
    });
  examples(create, [
    'tandem apikey create --owner ann --ttl 30d --description laptop --api-key $ADMIN_KEY',
    'TANDEM_API_KEY=$ADMIN_KEY tandem apikey create --owner ci',
  ]);

  const list = withIdentityOptions(apikey.command('list').description('keys (never their secrets)'))
    .option('--owner <user>', "only this user's keys")
    .option('--json', 'print JSON instead of a table', false)
    .action(async (o: KeyOptions) => {
      const keys = (await identityCall<ListApiKeysResponse>(o, (c, m, cb) => c.listApiKeys({ owner: o.owner ?? '' }, m, cb))).keys.map(keyJson);
      if (o.json) {
        console.log(JSON.stringify(keys, null, 2));
        return;
      }
      printTable(['ID', 'OWNER', 'EXPIRES', 'STATE', 'DESCRIPTION'], keys.map((k) => [k.id, k.owner, k.expiresAt, k.disabled ? 'disabled' : 'enabled', k.description]));
    });
  examples(list, ['tandem apikey list --owner ann']);

  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    const c = withIdentityOptions(apikey.command(verb).description(`${verb} a key (in every region within seconds)`).argument('<id>')).action(async (id: string, o: KeyOptions) => {
      const r = await identityCall<SetApiKeyDisabledResponse>(o, (client, m, cb) => client.setApiKeyDisabled({ id, disabled }, m, cb));
      console.log(JSON.stringify(keyJson(r.key!)));
    });
    examples(c, [`tandem apikey ${verb} 3f9c0a1b2c3d4e5f`]);
  }

  const del = withIdentityOptions(apikey.command('delete').description('delete a key for good').argument('<id>')).action(async (id: string, o: KeyOptions) => {
    await identityCall(o, (c, m, cb) => c.deleteApiKey({ id }, m, cb));
    console.log(`deleted API key ${id}`);
  });
  examples(del, ['tandem apikey delete 3f9c0a1b2c3d4e5f']);
}
