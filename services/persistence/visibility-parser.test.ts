import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTandemError } from '../common/errors.js';
import type { Condition, FieldRef, SearchAttributeType } from './visibility-query.js';
import { parseVisibilityQuery } from './visibility-parser.js';

const attrs: Record<string, SearchAttributeType> = {
  CustomKeywordField: 'Keyword',
  CustomTextField: 'Text',
  CustomIntField: 'Int',
  CustomDoubleField: 'Double',
  CustomBoolField: 'Bool',
  CustomDatetimeField: 'Datetime',
  CustomKeywordListField: 'KeywordList',
  TemporalNamespaceDivision: 'Keyword',
};
const list = (q: string) => parseVisibilityQuery(q, attrs, { count: false });
const count = (q: string) => parseVisibilityQuery(q, attrs, { count: true });

const col = (name: string, type: SearchAttributeType): FieldRef => ({ name, type, builtin: true });
const sa = (name: string): FieldRef => ({ name, type: attrs[name]!, builtin: false });
const division: Condition = { op: 'isNull', field: sa('TemporalNamespaceDivision') };
/** The condition a query without TemporalNamespaceDivision gets. */
const hidden = (c: Condition): Condition => (c.op === 'and' ? { op: 'and', items: [...c.items, division] } : { op: 'and', items: [c, division] });
const whereOf = (q: string) => list(q).query.where;

function rejects(q: string, pattern: RegExp, opts = { count: false }) {
  assert.throws(
    () => parseVisibilityQuery(q, attrs, opts),
    (e) => isTandemError(e, 'INVALID_ARGUMENT') && e.message.startsWith('invalid query: ') && pattern.test(e.message),
    q,
  );
}

test('empty query: only the namespace division rule', () => {
  assert.deepEqual(list('').query, { where: division });
  assert.deepEqual(list('   ').query, { where: division });
  assert.deepEqual(list("TemporalNamespaceDivision = 'TemporalScheduler'").query, {
    where: { op: '=', field: sa('TemporalNamespaceDivision'), value: 'TemporalScheduler' },
  });
});

test('the Web UI queries', () => {
  assert.deepEqual(whereOf('`ExecutionStatus`="Running"'), hidden({ op: '=', field: col('ExecutionStatus', 'Keyword'), value: 'Running' }));
  assert.deepEqual(whereOf('StartTime >= "2026-01-01T00:00:00Z"'), hidden({ op: '>=', field: col('StartTime', 'Datetime'), value: Date.UTC(2026, 0, 1) }));
  assert.deepEqual(
    whereOf('ParentWorkflowId = "p" AND ParentRunId = "r"'),
    hidden({ op: 'and', items: [{ op: '=', field: col('ParentWorkflowId', 'Keyword'), value: 'p' }, { op: '=', field: col('ParentRunId', 'Keyword'), value: 'r' }] }),
  );
  assert.deepEqual(whereOf('RootWorkflowId = "x"'), hidden({ op: '=', field: col('RootWorkflowId', 'Keyword'), value: 'x' }));
  assert.deepEqual(count('GROUP BY ExecutionStatus'), { query: { where: division }, groupBy: [col('ExecutionStatus', 'Keyword')] });
});

test('every operator', () => {
  const k = col('WorkflowId', 'Keyword');
  const cases: [string, Condition][] = [
    ["WorkflowId = 'a'", { op: '=', field: k, value: 'a' }],
    ["WorkflowId != 'a'", { op: '!=', field: k, value: 'a' }],
    ["WorkflowId <> 'a'", { op: '!=', field: k, value: 'a' }],
    ["WorkflowId < 'a'", { op: '<', field: k, value: 'a' }],
    ["WorkflowId <= 'a'", { op: '<=', field: k, value: 'a' }],
    ["WorkflowId > 'a'", { op: '>', field: k, value: 'a' }],
    ["WorkflowId >= 'a'", { op: '>=', field: k, value: 'a' }],
    ["WorkflowId in ('a', \"b\")", { op: 'in', field: k, values: ['a', 'b'] }],
    ["WorkflowId NOT IN ('a')", { op: 'notIn', field: k, values: ['a'] }],
    ["WorkflowId BETWEEN 'a' AND 'c'", { op: 'between', field: k, low: 'a', high: 'c' }],
    ["WorkflowId not between 'a' and 'c'", { op: 'notBetween', field: k, low: 'a', high: 'c' }],
    ["WorkflowId STARTS_WITH 'a'", { op: 'startsWith', field: k, prefix: 'a' }],
    ["WorkflowId NOT STARTS_WITH 'a'", { op: 'notStartsWith', field: k, prefix: 'a' }],
    ['WorkflowId IS NULL', { op: 'isNull', field: k }],
    ['WorkflowId is not null', { op: 'isNotNull', field: k }],
  ];
  for (const [q, want] of cases) assert.deepEqual(whereOf(q), hidden(want), q);
});

test('AND binds tighter than OR; parentheses group', () => {
  const eq = (name: string, value: string): Condition => ({ op: '=', field: col(name, 'Keyword'), value });
  assert.deepEqual(
    whereOf("WorkflowId = 'a' OR WorkflowId = 'b' AND RunId = 'r'"),
    hidden({ op: 'or', items: [eq('WorkflowId', 'a'), { op: 'and', items: [eq('WorkflowId', 'b'), eq('RunId', 'r')] }] }),
  );
  assert.deepEqual(
    whereOf("(WorkflowId = 'a' OR WorkflowId = 'b') AND RunId = 'r'"),
    hidden({ op: 'and', items: [{ op: 'or', items: [eq('WorkflowId', 'a'), eq('WorkflowId', 'b')] }, eq('RunId', 'r')] }),
  );
});

test('literals convert to their field type', () => {
  const value = (q: string) => (whereOf(q) as { items: { value: unknown }[] }).items[0]!.value;
  assert.equal(value('CustomIntField = 5'), 5);
  assert.equal(value("CustomIntField = '-5'"), -5);
  assert.equal(value('CustomDoubleField > 1.5'), 1.5);
  assert.equal(value('CustomBoolField = TRUE'), true);
  assert.equal(value("CustomBoolField = 'false'"), false);
  assert.equal(value("CustomDatetimeField < '2026-01-01T00:00:00.123456789+01:00'"), Date.UTC(2025, 11, 31, 23, 0, 0, 123));
  assert.equal(value('StartTime > 1767225600000000000'), Date.UTC(2026, 0, 1));
  assert.equal(value("ExecutionDuration > '1h30m'"), 90 * 60_000);
  assert.equal(value("ExecutionDuration > '1.5s'"), 1500);
  assert.equal(value("ExecutionDuration > '01:00:10'"), 3_610_000);
  assert.equal(value('ExecutionDuration > 2000000'), 2);
  assert.equal(value("ExecutionStatus = 'ContinuedAsNew'"), 'ContinuedAsNew');
  assert.equal(value("`CustomKeywordField` = 'it\\'s'"), "it's");
});

test('ORDER BY in lists, GROUP BY in counts', () => {
  assert.deepEqual(list('order by StartTime, CustomIntField DESC, WorkflowId asc').query.orderBy, [
    { field: col('StartTime', 'Datetime'), desc: false },
    { field: sa('CustomIntField'), desc: true },
    { field: col('WorkflowId', 'Keyword'), desc: false },
  ]);
  assert.deepEqual(count("WorkflowType = 'T' GROUP BY ExecutionStatus").groupBy, [col('ExecutionStatus', 'Keyword')]);
  assert.equal(count("WorkflowType = 'T'").groupBy, undefined);
});

test('errors name the offending part and its position', () => {
  rejects("Foo = 'x'", /unknown search attribute "Foo" at position 0/);
  rejects("WorkflowId = 'a' AND `Bar` = 1", /unknown search attribute "Bar" at position 21/);
  rejects("WorkflowId LIKE 'a%'", /expected an operator after "WorkflowId", got "LIKE" at position 11/);
  rejects("WorkflowId = 'a' AND", /expected a search attribute name, got end of query at the end/);
  rejects("WorkflowId = 'a", /unterminated string at position 13/);
  rejects('WorkflowId = 5', /WorkflowId expects a quoted string, got "5" at position 13/);
  rejects("ExecutionStatus = 'Sleeping'", /ExecutionStatus expects one of Running, .*TimedOut, got "Sleeping"/);
  rejects("StartTime > '2024-01-01'", /StartTime expects an RFC 3339 time/);
  rejects("ExecutionDuration > 'soon'", /ExecutionDuration expects a duration/);
  rejects('CustomIntField = 1.5', /CustomIntField expects an integer/);
  rejects("CustomTextField > 'a'", /operator ">" is not supported on CustomTextField \(Text\) at position 16/);
  rejects("CustomTextField IN ('a')", /operator "IN" is not supported on CustomTextField/);
  rejects('CustomBoolField BETWEEN true AND false', /operator "BETWEEN" is not supported on CustomBoolField/);
  rejects("CustomKeywordListField < 'a'", /not supported on CustomKeywordListField \(KeywordList\)/);
  rejects("CustomIntField STARTS_WITH '1'", /operator "STARTS_WITH" is not supported on CustomIntField/);
  rejects("(WorkflowId = 'a'", /expected "\)", got end of query at the end/);
  rejects("WorkflowId = 'a' LIMIT 5", /unexpected "LIMIT" at position 17/);
  rejects("WorkflowId = 'a' ; DROP", /unexpected character ";" at position 17/);
  rejects('ORDER BY CustomTextField', /ORDER BY "CustomTextField" is not supported on a Text/);
  rejects('ORDER BY CustomKeywordListField', /not supported on a KeywordList/);
  rejects('GROUP BY ExecutionStatus', /GROUP BY is only supported in CountWorkflowExecutions at position 0/);
  rejects('GROUP BY WorkflowType', /GROUP BY "WorkflowType" is not supported; only ExecutionStatus at position 9/, { count: true });
  rejects('ORDER BY StartTime', /ORDER BY is not supported in CountWorkflowExecutions/, { count: true });
  rejects('x'.repeat(16 * 1024 + 1), /exceeds the limit/);
});
