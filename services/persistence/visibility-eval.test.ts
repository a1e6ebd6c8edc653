import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTandemError } from '../common/errors.js';
import { visibility } from './conformance/fixtures.js';
import type { VisibilityRecord } from './types.js';
import {
  cursorOf,
  decodeCursor,
  encodeCursor,
  evaluateCount,
  evaluateList,
  fieldValue,
  isAfterCursor,
  matches,
  sortKeys,
  textMatches,
} from './visibility-eval.js';
import type { Condition, FieldRef } from './visibility-query.js';

const status: FieldRef = { name: 'ExecutionStatus', type: 'Keyword', builtin: true };
const closeTime: FieldRef = { name: 'CloseTime', type: 'Datetime', builtin: true };
const tags: FieldRef = { name: 'Tags', type: 'KeywordList', builtin: false };
const note: FieldRef = { name: 'Note', type: 'Text', builtin: false };
const size: FieldRef = { name: 'Size', type: 'Int', builtin: false };

const rec = (over: Partial<VisibilityRecord>) => visibility('ns', over);
const withTags = (value: string[]) => rec({ searchAttributes: { Tags: { type: 'KeywordList', value } } });

test('builtin columns as queries see them: status by name, nulls as missing', () => {
  assert.equal(fieldValue(rec({ status: 6 }), status), 'ContinuedAsNew');
  assert.equal(fieldValue(rec({}), closeTime), null);
  assert.equal(fieldValue(withTags([]), tags), null, 'an empty list is missing');
});

test('a missing value matches only IS NULL, negations included', () => {
  const r = rec({});
  const conditions: Condition[] = [
    { op: '=', field: size, value: 1 },
    { op: '!=', field: size, value: 1 },
    { op: 'notIn', field: size, values: [1] },
    { op: 'notBetween', field: size, low: 1, high: 2 },
    { op: 'notStartsWith', field: tags, prefix: 'a' },
    { op: 'isNotNull', field: size },
  ];
  for (const c of conditions) assert.equal(matches(r, c), false, c.op);
  assert.equal(matches(r, { op: 'isNull', field: size }), true);
});

test('KeywordList: positive operators on any element, negated ones on none', () => {
  const r = withTags(['red', 'green']);
  assert.equal(matches(r, { op: '=', field: tags, value: 'green' }), true);
  assert.equal(matches(r, { op: '!=', field: tags, value: 'green' }), false);
  assert.equal(matches(r, { op: '!=', field: tags, value: 'blue' }), true);
  assert.equal(matches(r, { op: 'in', field: tags, values: ['blue', 'red'] }), true);
  assert.equal(matches(r, { op: 'notIn', field: tags, values: ['blue', 'red'] }), false);
  assert.equal(matches(r, { op: 'startsWith', field: tags, prefix: 'gr' }), true);
  assert.equal(matches(r, { op: 'notStartsWith', field: tags, prefix: 'bl' }), true);
});

test('Text is a phrase match on lower-cased tokens', () => {
  assert.equal(textMatches('The quick, brown fox', 'QUICK brown'), true);
  assert.equal(textMatches('The quick, brown fox', 'brown quick'), false);
  assert.equal(textMatches('The quick, brown fox', 'qui'), false);
  assert.equal(textMatches('anything', '  '), false);
  const r = rec({ searchAttributes: { Note: { type: 'Text', value: 'hello world' } } });
  assert.equal(matches(r, { op: '=', field: note, value: 'World' }), true);
  assert.equal(matches(r, { op: '!=', field: note, value: 'World' }), false);
});

test('default order: open runs newest start first, then closed newest close first, ties by run id', () => {
  const recs = [
    rec({ runId: 'c', status: 2, startTimeMs: 5, closeTimeMs: 10 }),
    rec({ runId: 'a', startTimeMs: 1 }),
    rec({ runId: 'e', status: 2, startTimeMs: 1, closeTimeMs: 20 }),
    rec({ runId: 'b', startTimeMs: 3 }),
    rec({ runId: 'd', status: 2, startTimeMs: 6, closeTimeMs: 10 }),
    rec({ runId: 'f', startTimeMs: 3 }),
  ];
  assert.deepEqual(evaluateList(recs, {}).map((r) => r.runId), ['b', 'f', 'a', 'e', 'd', 'c']);
  assert.deepEqual(evaluateList(recs, { orderBy: [{ field: closeTime, desc: false }] }).map((r) => r.runId), ['c', 'd', 'e', 'a', 'b', 'f'], 'missing last');
});

test('a cursor resumes right after its record, in any order; a foreign token is INVALID_ARGUMENT', () => {
  const recs = [1, 2, 3, 4].map((n) => rec({ runId: `r${n}`, searchAttributes: n % 2 ? {} : { Size: { type: 'Int', value: n } } }));
  const keys = sortKeys([{ field: size, desc: true }]);
  const ordered = evaluateList(recs, { orderBy: [{ field: size, desc: true }] });
  assert.deepEqual(ordered.map((r) => r.runId), ['r4', 'r2', 'r1', 'r3']);
  for (let i = 0; i < ordered.length; i++) {
    const cursor = decodeCursor(encodeCursor(cursorOf(keys, ordered[i]!)), keys);
    assert.deepEqual(ordered.filter((r) => isAfterCursor(keys, cursor, r)), ordered.slice(i + 1));
  }
  for (const token of ['%%', encodeCursor(['x']), encodeCursor([1, 2])]) {
    assert.throws(() => decodeCursor(token, keys), (e) => isTandemError(e, 'INVALID_ARGUMENT'));
  }
});

test('counts, grouped largest first', () => {
  const recs = [rec({ status: 1 }), rec({ status: 2 }), rec({ status: 1 }), rec({ status: 3 })];
  assert.deepEqual(evaluateCount(recs, {}), { count: 4 });
  assert.deepEqual(evaluateCount(recs, { where: { op: '!=', field: status, value: 'Failed' } }, [status]), {
    count: 3,
    groups: [
      { values: ['Running'], count: 2 },
      { values: ['Completed'], count: 1 },
    ],
  });
});
