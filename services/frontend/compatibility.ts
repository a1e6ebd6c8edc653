// docs/compatibility.md, generated: every method of Temporal's WorkflowService and OperatorService
// (from the service definitions of @temporalio/proto), whether the frontend serves it (from the
// handlers server.ts binds, handlers.ts) and each known difference from the reference server.
// `npx tsx services/frontend/compatibility.ts --write` rewrites the file; compatibility.test.ts
// fails when it is not what this generates, so the table cannot drift from the code.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { reflectionRoot } from '../common/grpc-codec.js';
import { silentLogger } from '../common/logger.js';
import { createRegistry } from '../common/metrics.js';
import { NamespaceRegistry } from '../namespaces/registry.js';
import { frontendConfig } from './config.js';
import { FrontendContext } from './context.js';
import { OPERATOR_SERVICE, servedHandlers, WORKFLOW_SERVICE } from './handlers.js';

export const compatibilityDoc = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'docs', 'compatibility.md');

/** The reference the differences are measured against (test-e2e/fixtures/reference-parity.json was recorded from it). */
const REFERENCE = 'Temporal server 1.29.1 (`temporal server start-dev` of the temporal CLI 1.5.1)';

type Service = typeof WORKFLOW_SERVICE | typeof OPERATOR_SERVICE;

/**
 * What Tandem does differently from the reference, by method. Only differences someone checked
 * belong here; what a method does not do at all shows as UNIMPLEMENTED without a note.
 */
export const knownDifferences: Record<Service, Record<string, string>> = {
  [WORKFLOW_SERVICE]: {
    GetSystemInfo:
      'Capabilities `buildIdBasedVersioning` and `nexus` are false (the reference reports them true).',
    RespondWorkflowTaskCompleted:
      'Eager activity dispatch (`activity_tasks` in the answer) is on for every namespace; the reference has it behind the dynamic config `system.enableActivityEagerExecution`, false by default in 1.29.1 (true in its current source).',
    ResetActivity:
      'A running attempt keeps its number until it ends (it then counts as attempt 1, and the next is attempt 2); the reference shows attempt 1 at once.',
    UpdateActivityOptions:
      '`match_all` is served, as later reference servers do (1.29.1 answers NOT_FOUND for it). The `priority` paths are accepted and ignored, as the reference ignores them (an activity keeps the priority it was scheduled with). A retry waiting out its backoff under a new policy waits the interval that policy gives the failed attempt (the reference waits the next attempt\'s interval, one backoff step more).',
    UpdateWorkflowExecutionOptions:
      'Also takes `priority` and its fields (`priority.priority_key`, `priority.fairness_key`, `priority.fairness_weight`) in the mask, as newer reference servers do; the reference refuses those paths.',
    DescribeTaskQueue:
      '`stats_by_priority_key` counts each task at its own priority level, levels with none left out; the reference, as `start-dev` runs it (no `matching.useNewMatcher`), counts every task at the default level 3.',
    PollWorkflowTaskQueue:
      'Tasks are handed out highest priority first and, within a level, fairly between fairness keys by weight (matching/README.md); the reference does so only with `matching.useNewMatcher` and `matching.enableFairness`, which `start-dev` leaves off.',
    PollActivityTaskQueue: 'As PollWorkflowTaskQueue: by priority, then fairly between fairness keys.',
  },
  [OPERATOR_SERVICE]: {},
};

/** A handler factory's dependencies, for listing the handlers only: any use of one is a bug here. */
function untouchable<T>(what: string): T {
  return new Proxy(
    {},
    {
      get: (_t, prop) => {
        throw new Error(`${what}.${String(prop)} used while only listing the frontend's handlers`);
      },
    },
  ) as T;
}

/** The methods the frontend binds a handler to, by service. */
export function servedMethods(): Record<Service, Set<string>> {
  const region = { name: 'listing', initialFailoverVersion: 1n, failoverVersionIncrement: 10n };
  const logger = silentLogger();
  const namespaces = new NamespaceRegistry(untouchable('namespaceStore'), { region }, logger);
  const ctx = new FrontendContext(frontendConfig({ region: region.name }), {
    persistence: untouchable('persistence'),
    namespaces,
    history: untouchable('history'),
    matching: untouchable('matching'),
    logger,
    registry: createRegistry(),
  });
  const served = servedHandlers(ctx, untouchable('failover'));
  return {
    [WORKFLOW_SERVICE]: new Set(Object.keys(served[WORKFLOW_SERVICE])),
    [OPERATOR_SERVICE]: new Set(Object.keys(served[OPERATOR_SERVICE])),
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|');

export function compatibilityMarkdown(): string {
  const served = servedMethods();
  const sections: string[] = [];
  const summary: string[] = [];
  for (const service of [WORKFLOW_SERVICE, OPERATOR_SERVICE] as const) {
    const methods = reflectionRoot.lookupService(service).methodsArray.map((m) => m.name);
    const notes = knownDifferences[service];
    for (const name of Object.keys(notes)) {
      if (!methods.includes(name)) throw new Error(`knownDifferences names ${service}/${name}, which the service does not define`);
    }
    for (const name of served[service]) {
      if (!methods.includes(name)) throw new Error(`the frontend binds ${service}/${name}, which the service does not define`);
    }
    const short = service.split('.').at(-1)!;
    const count = methods.filter((m) => served[service].has(m)).length;
    summary.push(`- ${short}: ${count} of ${methods.length} methods served, ${methods.length - count} answer \`UNIMPLEMENTED\`.`);
    const rows = methods.map((m) => `| ${m} | ${served[service].has(m) ? 'served' : '`UNIMPLEMENTED`'} | ${cell(notes[m] ?? '')} |`);
    sections.push([`## ${short} (\`${service}\`)`, '', '| Method | Tandem | Known differences from the reference |', '| --- | --- | --- |', ...rows].join('\n'));
  }
  return [
    '# Compatibility with the Temporal server',
    '',
    '<!-- Generated by `npx tsx services/frontend/compatibility.ts --write`; services/frontend/compatibility.test.ts fails when this file differs. Do not edit by hand. -->',
    '',
    `Every method of Temporal's public gRPC services, from the service definitions of \`@temporalio/proto\`, whether`,
    `Tandem's frontend serves it (\`services/frontend/handlers.ts\`), and each known difference from the reference,`,
    `${REFERENCE}. A method that is not served answers \`UNIMPLEMENTED\` with its full name.`,
    '`test-e2e/parity.test.ts` runs scenarios against Tandem and compares its histories and answers, event by event,',
    'with what the reference wrote for the same scenarios (`test-e2e/fixtures/reference-parity.json`, recorded by',
    '`test-e2e/record-reference.ts`).',
    '',
    ...summary,
    '',
    sections.join('\n\n'),
    '',
  ].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = compatibilityMarkdown();
  if (process.argv.includes('--write')) fs.writeFileSync(compatibilityDoc, text);
  else process.stdout.write(text);
}
