// Temporal's list filter language, parsed into the typed VisibilityQuery every store receives:
//   [condition] [GROUP BY field, ...] [ORDER BY field [ASC|DESC], ...]
//   condition: = != <> > >= < <=, [NOT] IN (..), [NOT] BETWEEN a AND b, [NOT] STARTS_WITH '..',
//   IS [NOT] NULL, joined by AND / OR (AND binds tighter) and parentheses.
// Names are case-sensitive (`backticks` quote them); keywords are not. Every literal is converted
// to its field's type here, so a store never sees a string where it expects a time. Each error
// names the offending token and its position.
import { apiError } from '../common/errors.js';
import { executionStatusNames } from './visibility-eval.js';
import {
  visibilityColumns,
  type CompareOp,
  type Condition,
  type FieldRef,
  type OrderBy,
  type ScalarValue,
  type SearchAttributeType,
  type VisibilityQuery,
} from './visibility-query.js';

/** Longer queries are refused before parsing. */
const MAX_QUERY_LENGTH = 16 * 1024;
/** How much of an offending token an error message repeats. */
const MAX_ECHO = 100;
/**
 * The reference server marks schedule-internal workflows with this attribute and hides them from
 * queries that do not name it.
 */
const NAMESPACE_DIVISION = 'TemporalNamespaceDivision';

const statusNames = new Set(Object.values(executionStatusNames));

type TokenKind = 'word' | 'name' | 'string' | 'number' | 'op' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  pos: number;
}

export interface ParsedVisibilityQuery {
  query: VisibilityQuery;
  /** Only for counts with GROUP BY. */
  groupBy?: FieldRef[];
}

function fail(message: string, at?: Token): never {
  const where = at === undefined ? '' : at.kind === 'end' ? ' at the end' : ` at position ${at.pos}`;
  throw apiError('INVALID_ARGUMENT', `invalid query: ${message}${where}`);
}

function echo(t: Token): string {
  if (t.kind === 'end') return 'end of query';
  const text = t.text.length > MAX_ECHO ? `${t.text.slice(0, MAX_ECHO)}…` : t.text;
  return JSON.stringify(text);
}

function tokenize(q: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const quoted = (close: string): string => {
    const start = i++;
    let text = '';
    for (;;) {
      if (i >= q.length) fail(`unterminated ${close === '`' ? 'name' : 'string'}`, { kind: 'op', text: close, pos: start });
      const c = q[i]!;
      if (c === '\\' && i + 1 < q.length) {
        text += q[i + 1];
        i += 2;
      } else if (c === close) {
        i++;
        return text;
      } else {
        text += c;
        i++;
      }
    }
  };
  while (i < q.length) {
    const c = q[i]!;
    const pos = i;
    const rest = q.slice(i);
    let m: RegExpExecArray | null;
    if (/\s/.test(c)) {
      i++;
    } else if ((m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest))) {
      tokens.push({ kind: 'word', text: m[0], pos });
      i += m[0].length;
    } else if ((m = /^-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(rest))) {
      tokens.push({ kind: 'number', text: m[0], pos });
      i += m[0].length;
    } else if (c === "'" || c === '"') {
      tokens.push({ kind: 'string', text: quoted(c), pos });
    } else if (c === '`') {
      tokens.push({ kind: 'name', text: quoted('`'), pos });
    } else {
      m = /^(!=|<=|>=|<>|[=<>(),])/.exec(rest);
      if (!m) fail(`unexpected character ${JSON.stringify(c)}`, { kind: 'op', text: c, pos });
      tokens.push({ kind: 'op', text: m[0], pos });
      i += m[0].length;
    }
  }
  tokens.push({ kind: 'end', text: '', pos: q.length });
  return tokens;
}

const RANGE_OPS = new Set(['<', '<=', '>', '>=', 'between', 'notBetween']);

/** Which operators a field type takes, beyond IS [NOT] NULL which every type takes. */
function refusesOp(type: SearchAttributeType, op: string): boolean {
  switch (type) {
    case 'Text':
      return op !== '=' && op !== '!=';
    case 'KeywordList':
      return !['=', '!=', 'in', 'notIn', 'startsWith', 'notStartsWith'].includes(op);
    case 'Bool':
      return RANGE_OPS.has(op) || op === 'startsWith' || op === 'notStartsWith';
    case 'Keyword':
      return false;
    default:
      return op === 'startsWith' || op === 'notStartsWith';
  }
}

const DURATION_UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };

/** ExecutionDuration as the reference takes it: integer nanoseconds, a Go duration ("1h30m", "1.5d"), or hh:mm:ss. */
function durationMs(text: string): number | undefined {
  if (/^-?\d+$/.test(text)) return nanosToMs(text);
  const hms = /^(\d+):([0-5]\d):([0-5]\d)$/.exec(text);
  if (hms) return (Number(hms[1]) * 3600 + Number(hms[2]) * 60 + Number(hms[3])) * 1000;
  const go = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h|d))+$/.exec(text);
  if (!go) return undefined;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/g)) ms += Number(n) * DURATION_UNIT_MS[unit!]!;
  return go[1] === '-' ? -ms : ms;
}

/** Integer nanoseconds (as text, beyond 2^53) to milliseconds, rounded down. */
function nanosToMs(text: string): number {
  const nanos = BigInt(text);
  const ms = nanos / 1_000_000n;
  return Number(nanos < 0n && ms * 1_000_000n !== nanos ? ms - 1n : ms);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A literal converted to the type of `field`, or undefined when it has no such reading. */
function convert(field: FieldRef, lit: Token): ScalarValue | undefined {
  const { text, kind } = lit;
  if (field.builtin && field.name === 'ExecutionStatus') return kind === 'string' && statusNames.has(text) ? text : undefined;
  if (field.builtin && field.name === 'ExecutionDuration') return kind === 'string' || kind === 'number' ? durationMs(text) : undefined;
  switch (field.type) {
    case 'Keyword':
    case 'Text':
    case 'KeywordList':
      return kind === 'string' ? text : undefined;
    case 'Int':
      return (kind === 'number' || kind === 'string') && /^-?\d+$/.test(text) && Number.isSafeInteger(Number(text)) ? Number(text) : undefined;
    case 'Double': {
      const n = Number(text);
      return (kind === 'number' || kind === 'string') && text.trim() !== '' && Number.isFinite(n) ? n : undefined;
    }
    case 'Bool': {
      const b = text.toLowerCase();
      return (kind === 'word' || kind === 'string') && (b === 'true' || b === 'false') ? b === 'true' : undefined;
    }
    case 'Datetime': {
      if (kind === 'number' || kind === 'string') {
        if (/^-?\d+$/.test(text)) return nanosToMs(text);
        if (kind === 'string' && RFC3339.test(text)) {
          const ms = Date.parse(text.replace(' ', 'T'));
          return Number.isNaN(ms) ? undefined : ms;
        }
      }
      return undefined;
    }
  }
}

function expected(field: FieldRef): string {
  if (field.builtin && field.name === 'ExecutionStatus') return `one of ${[...statusNames].join(', ')}`;
  if (field.builtin && field.name === 'ExecutionDuration') return 'a duration: integer nanoseconds, "1h30m" or "hh:mm:ss"';
  const what: Record<SearchAttributeType, string> = {
    Keyword: 'a quoted string',
    Text: 'a quoted string',
    KeywordList: 'a quoted string',
    Int: 'an integer',
    Double: 'a number',
    Bool: 'true or false',
    Datetime: 'an RFC 3339 time or integer epoch nanoseconds',
  };
  return what[field.type];
}

/**
 * Parses a list or count query. `searchAttributes` holds the namespace's search attribute types,
 * predefined and custom; the record columns (visibilityColumns) need not be in it.
 */
export function parseVisibilityQuery(
  query: string,
  searchAttributes: Record<string, SearchAttributeType>,
  opts: { count: boolean },
): ParsedVisibilityQuery {
  if (query.length > MAX_QUERY_LENGTH) fail(`${query.length} characters exceeds the limit of ${MAX_QUERY_LENGTH}`);
  const tokens = tokenize(query);
  let i = 0;
  let mentionsDivision = false;
  const peek = () => tokens[i]!;
  const isKeyword = (kw: string, t = peek()) => t.kind === 'word' && t.text.toUpperCase() === kw;
  const take = () => tokens[i++]!;
  const expect = (kw: string) => {
    if (!isKeyword(kw)) fail(`expected ${kw}, got ${echo(peek())}`, peek());
    i++;
  };
  const expectOp = (op: string) => {
    if (peek().kind !== 'op' || peek().text !== op) fail(`expected "${op}", got ${echo(peek())}`, peek());
    i++;
  };

  const field = (): FieldRef => {
    const t = take();
    if (t.kind !== 'word' && t.kind !== 'name') fail(`expected a search attribute name, got ${echo(t)}`, t);
    if (t.text === NAMESPACE_DIVISION) mentionsDivision = true;
    if (Object.hasOwn(visibilityColumns, t.text)) {
      return { name: t.text, type: visibilityColumns[t.text as keyof typeof visibilityColumns], builtin: true };
    }
    const type = Object.hasOwn(searchAttributes, t.text) ? searchAttributes[t.text] : t.text === NAMESPACE_DIVISION ? 'Keyword' : undefined;
    if (!type) fail(`unknown search attribute ${echo(t)}`, t);
    return { name: t.text, type, builtin: false };
  };

  const value = (f: FieldRef): ScalarValue => {
    const t = take();
    if (!['string', 'number', 'word'].includes(t.kind) || (t.kind === 'word' && !/^(true|false)$/i.test(t.text))) {
      fail(`expected a value, got ${echo(t)}`, t);
    }
    const v = convert(f, t);
    if (v === undefined) fail(`${f.name} expects ${expected(f)}, got ${echo(t)}`, t);
    return v;
  };

  const checkOp = (f: FieldRef, op: string, at: Token) => {
    if (refusesOp(f.type, op)) fail(`operator ${echo(at)} is not supported on ${f.name} (${f.type})`, at);
  };

  const comparison = (): Condition => {
    const nameTok = peek();
    const f = field();
    const opTok = peek();
    if (isKeyword('IS')) {
      i++;
      const not = isKeyword('NOT');
      if (not) i++;
      expect('NULL');
      return { op: not ? 'isNotNull' : 'isNull', field: f };
    }
    const not = isKeyword('NOT');
    if (not) i++;
    if (isKeyword('IN')) {
      const op = not ? 'notIn' : 'in';
      checkOp(f, op, opTok);
      i++;
      expectOp('(');
      const values = [value(f)];
      while (peek().text === ',' && peek().kind === 'op') {
        i++;
        values.push(value(f));
      }
      expectOp(')');
      return { op, field: f, values };
    }
    if (isKeyword('BETWEEN')) {
      const op = not ? 'notBetween' : 'between';
      checkOp(f, op, opTok);
      i++;
      const low = value(f);
      expect('AND');
      return { op, field: f, low, high: value(f) };
    }
    if (isKeyword('STARTS_WITH')) {
      const op = not ? 'notStartsWith' : 'startsWith';
      checkOp(f, op, opTok);
      i++;
      const t = peek();
      const prefix = value(f);
      if (typeof prefix !== 'string') fail(`STARTS_WITH expects a quoted string, got ${echo(t)}`, t);
      return { op, field: f, prefix };
    }
    if (not || opTok.kind !== 'op' || ![...'=<>', '!=', '<=', '>=', '<>'].includes(opTok.text)) {
      fail(`expected an operator after ${echo(nameTok)}, got ${echo(opTok)}`, opTok);
    }
    i++;
    const op = (opTok.text === '<>' ? '!=' : opTok.text) as CompareOp;
    checkOp(f, op, opTok);
    return { op, field: f, value: value(f) };
  };

  const primary = (): Condition => {
    if (peek().kind === 'op' && peek().text === '(') {
      i++;
      const c = orExpr();
      expectOp(')');
      return c;
    }
    return comparison();
  };
  const chain = (kw: 'AND' | 'OR', item: () => Condition): Condition => {
    const items = [item()];
    while (isKeyword(kw)) {
      i++;
      items.push(item());
    }
    return items.length === 1 ? items[0]! : { op: kw === 'AND' ? 'and' : 'or', items };
  };
  const andExpr = () => chain('AND', primary);
  const orExpr = (): Condition => chain('OR', andExpr);

  const fieldList = (each: (f: FieldRef, at: Token) => void): FieldRef[] => {
    const fields: FieldRef[] = [];
    do {
      if (fields.length) i++;
      const at = peek();
      const f = field();
      each(f, at);
      fields.push(f);
    } while (peek().kind === 'op' && peek().text === ',');
    return fields;
  };

  let where: Condition | undefined;
  if (peek().kind !== 'end' && !isKeyword('ORDER') && !isKeyword('GROUP')) where = orExpr();

  let groupBy: FieldRef[] | undefined;
  if (isKeyword('GROUP')) {
    const at = take();
    if (!opts.count) fail('GROUP BY is only supported in CountWorkflowExecutions', at);
    expect('BY');
    groupBy = fieldList((f, t) => {
      if (!(f.builtin && f.name === 'ExecutionStatus')) fail(`GROUP BY ${echo(t)} is not supported; only ExecutionStatus`, t);
    });
  }

  let orderBy: OrderBy[] | undefined;
  if (isKeyword('ORDER')) {
    const at = take();
    if (opts.count) fail('ORDER BY is not supported in CountWorkflowExecutions', at);
    expect('BY');
    orderBy = [];
    fieldList((f, t) => {
      if (f.type === 'Text' || f.type === 'KeywordList') fail(`ORDER BY ${echo(t)} is not supported on a ${f.type} search attribute`, t);
      let desc = false;
      if (isKeyword('DESC') || isKeyword('ASC')) desc = take().text.toUpperCase() === 'DESC';
      orderBy!.push({ field: f, desc });
    });
  }

  const rest = peek();
  if (rest.kind !== 'end') fail(`unexpected ${echo(rest)}`, rest);

  if (!mentionsDivision) {
    const division: Condition = { op: 'isNull', field: { name: NAMESPACE_DIVISION, type: searchAttributes[NAMESPACE_DIVISION] ?? 'Keyword', builtin: false } };
    where = !where ? division : where.op === 'and' ? { op: 'and', items: [...where.items, division] } : { op: 'and', items: [where, division] };
  }
  const result: ParsedVisibilityQuery = { query: orderBy ? { where, orderBy } : { where } };
  if (groupBy) result.groupBy = groupBy;
  return result;
}
