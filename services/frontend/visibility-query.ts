// The subset of Temporal's visibility query language that the VisibilityStore can answer:
//   WorkflowId = '..' AND WorkflowType = '..' AND ExecutionStatus = 'Running' AND RunId = '..'
//   [ORDER BY StartTime DESC]
// Anything else is refused, naming the part, rather than silently ignored.
import { apiError } from '../common/errors.js';
import { enums } from '../common/temporal.js';
import type { VisibilityFilter } from '../persistence/types.js';

export const executionStatusNames: Record<string, number> = {
  Running: enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING,
  Completed: enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED,
  Failed: enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_FAILED,
  Canceled: enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
  Terminated: enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TERMINATED,
  ContinuedAsNew: enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW,
  TimedOut: enums.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_TIMED_OUT,
};

const SUPPORTED =
  "supported: WorkflowId, WorkflowType, RunId, ExecutionStatus compared with = to a quoted string, joined by AND, then optionally ORDER BY StartTime DESC";

type Token = { kind: 'word' | 'string' | 'op'; text: string; pos: number };

/** Longer queries are refused before parsing; the supported language never needs more. */
const MAX_QUERY_LENGTH = 16 * 1024;
/** How much of an offending token an error message repeats. */
const MAX_ECHO = 100;

function unsupported(what: string, pos?: number): never {
  if (what.length > MAX_ECHO) what = `${what.slice(0, MAX_ECHO)}…`;
  const where = pos === undefined ? '' : ` at position ${pos}`;
  throw apiError('INVALID_ARGUMENT', `invalid query: unsupported ${what}${where}; ${SUPPORTED}.`);
}

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(q.slice(i))!;
      tokens.push({ kind: 'word', text: m[0], pos: i });
      i += m[0].length;
    } else if (c === "'" || c === '"') {
      const start = i++;
      let text = '';
      for (;;) {
        if (i >= q.length) throw apiError('INVALID_ARGUMENT', `invalid query: unterminated string at position ${start}.`);
        const d = q[i]!;
        if (d === '\\' && i + 1 < q.length) {
          text += q[i + 1];
          i += 2;
        } else if (d === c) {
          i++;
          break;
        } else {
          text += d;
          i++;
        }
      }
      tokens.push({ kind: 'string', text, pos: start });
    } else {
      const m = /^(!=|<=|>=|<>|[=<>(),])/.exec(q.slice(i));
      const text = m ? m[0] : c;
      tokens.push({ kind: 'op', text, pos: i });
      i += text.length;
    }
  }
  return tokens;
}

const fieldKeys: Record<string, 'workflowId' | 'workflowType' | 'runId' | 'status'> = {
  WorkflowId: 'workflowId',
  WorkflowType: 'workflowType',
  RunId: 'runId',
  ExecutionStatus: 'status',
};

export function parseVisibilityQuery(query: string): VisibilityFilter {
  if (query.length > MAX_QUERY_LENGTH) {
    throw apiError('INVALID_ARGUMENT', `invalid query: ${query.length} characters exceeds the limit of ${MAX_QUERY_LENGTH}.`);
  }
  const tokens = tokenize(query);
  const filter: VisibilityFilter = {};
  let i = 0;
  const peek = () => tokens[i];
  const isKeyword = (t: Token | undefined, kw: string) => t?.kind === 'word' && t.text.toUpperCase() === kw;

  const condition = () => {
    const field = tokens[i++]!;
    if (field.kind !== 'word') unsupported(JSON.stringify(field.text), field.pos);
    const key = fieldKeys[field.text];
    if (!key) unsupported(`search attribute ${field.text}`, field.pos);
    const op = tokens[i++];
    if (!op) throw apiError('INVALID_ARGUMENT', `invalid query: ${field.text} needs = and a value.`);
    if (op.text !== '=') unsupported(`operator ${op.text}`, op.pos);
    const value = tokens[i++];
    if (!value || value.kind !== 'string') {
      throw apiError('INVALID_ARGUMENT', `invalid query: ${field.text} = needs a quoted string value${value ? ` at position ${value.pos}` : ''}.`);
    }
    if (filter[key] !== undefined) unsupported(`second condition on ${field.text}`, field.pos);
    if (key === 'status') {
      const status = executionStatusNames[value.text];
      if (status === undefined) {
        throw apiError(
          'INVALID_ARGUMENT',
          `invalid query: unknown ExecutionStatus ${JSON.stringify(value.text)}; one of ${Object.keys(executionStatusNames).join(', ')}.`,
        );
      }
      filter.status = status;
    } else {
      filter[key] = value.text;
    }
  };

  if (peek() && !isKeyword(peek(), 'ORDER')) {
    condition();
    while (isKeyword(peek(), 'AND')) {
      i++;
      if (!peek()) throw apiError('INVALID_ARGUMENT', 'invalid query: AND at the end.');
      condition();
    }
  }
  if (isKeyword(peek(), 'ORDER')) {
    const order = peek()!;
    const by = tokens[i + 1];
    const col = tokens[i + 2];
    const dir = tokens[i + 3];
    if (!isKeyword(by, 'BY') || col?.text !== 'StartTime' || !isKeyword(dir, 'DESC')) {
      unsupported('ordering (only ORDER BY StartTime DESC)', order.pos);
    }
    i += 4;
  }
  const rest = peek();
  if (rest) unsupported(JSON.stringify(rest.text), rest.pos);
  return filter;
}
