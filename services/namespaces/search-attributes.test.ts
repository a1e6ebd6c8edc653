// Search attribute definitions and values: names a namespace may define, payloads converted to
// typed values with the namespace's types, and the errors a client sees for bad ones.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isTandemError } from '../common/errors.js';
import type { commonv1 } from '../common/temporal.js';
import {
  checkCustomSearchAttributeName,
  customSearchAttributes,
  decodeSearchAttribute,
  mergeSearchAttributes,
  searchAttributeTypes,
  typedSearchAttributes,
  validateSearchAttributes,
  withCustomSearchAttributes,
} from './search-attributes.js';

function json(v: unknown, type?: string): commonv1.IPayload {
  const metadata: Record<string, Uint8Array> = { encoding: Buffer.from('json/plain') };
  if (type) metadata.type = Buffer.from(type);
  return { metadata, data: Buffer.from(JSON.stringify(v)) };
}
const nullPayload: commonv1.IPayload = { metadata: { encoding: Buffer.from('binary/null') } };

const custom = { CustomerId: 'Int', Region: 'Keyword', Notes: 'Text', Score: 'Double', Vip: 'Bool', Due: 'Datetime', Tags: 'KeywordList' } as const;
const ns = { name: 'shop', config: withCustomSearchAttributes(JSON.stringify({ historyArchivalUri: 'x' }), () => ({ ...custom })) };

const refused = (fn: () => unknown, message: RegExp) =>
  assert.throws(fn, (err: unknown) => isTandemError(err, 'INVALID_ARGUMENT') && message.test((err as Error).message));

describe('search attributes', () => {
  test('custom attributes live in the config beside its other keys; query types add the predefined ones', () => {
    assert.equal(JSON.parse(ns.config).historyArchivalUri, 'x');
    assert.deepEqual(customSearchAttributes(ns), custom);
    const types = searchAttributeTypes(ns);
    assert.equal(types.CustomerId, 'Int');
    assert.equal(types.TemporalChangeVersion, 'KeywordList');
    assert.equal(types.BuildIds, 'KeywordList');
    assert.equal(types.TemporalScheduledById, 'Keyword');
    assert.equal(types.WorkflowId, undefined, 'system attributes are record columns');
    assert.deepEqual(customSearchAttributes({ config: '' }), {});
  });

  test('reserved names, the Temporal prefix and malformed names cannot be defined', () => {
    for (const name of ['WorkflowId', 'ExecutionStatus', 'BuildIds', 'NamespaceId', 'Memo', 'TemporalAnything']) {
      refused(() => checkCustomSearchAttributeName(name), /is reserved by system/);
    }
    refused(() => checkCustomSearchAttributeName('has space'), /must start with a letter/);
    refused(() => checkCustomSearchAttributeName(''), /not set/);
    checkCustomSearchAttributeName('Customer_Id2');
  });

  test('each type decodes to its typed value; the namespace type wins over payload metadata', () => {
    assert.deepEqual(decodeSearchAttribute('A', 'Int', json(42, 'Int')), { type: 'Int', value: 42 });
    assert.deepEqual(decodeSearchAttribute('A', 'Double', json(1.5)), { type: 'Double', value: 1.5 });
    assert.deepEqual(decodeSearchAttribute('A', 'Bool', json(true)), { type: 'Bool', value: true });
    assert.deepEqual(decodeSearchAttribute('A', 'Keyword', json('eu', 'Text')), { type: 'Keyword', value: 'eu' });
    assert.deepEqual(decodeSearchAttribute('A', 'Text', json('some words')), { type: 'Text', value: 'some words' });
    assert.deepEqual(decodeSearchAttribute('A', 'Datetime', json('2026-01-02T03:04:05.678Z')), { type: 'Datetime', value: Date.UTC(2026, 0, 2, 3, 4, 5, 678) });
    assert.deepEqual(decodeSearchAttribute('A', 'KeywordList', json(['a', 'b'])), { type: 'KeywordList', value: ['a', 'b'] });
    assert.deepEqual(decodeSearchAttribute('A', 'KeywordList', json('a')), { type: 'KeywordList', value: ['a'] });
    // Legacy clients wrap every value in a list.
    assert.deepEqual(decodeSearchAttribute('A', 'Int', json([7])), { type: 'Int', value: 7 });
    assert.equal(decodeSearchAttribute('A', 'Int', nullPayload), null);
  });

  test('a value of the wrong type is INVALID_ARGUMENT naming the attribute, its type and the value', () => {
    refused(() => decodeSearchAttribute('CustomerId', 'Int', json('abc')), /^search attribute CustomerId of type Int cannot hold "abc"$/);
    refused(() => decodeSearchAttribute('A', 'Int', json(1.5)), /of type Int cannot hold 1.5/);
    refused(() => decodeSearchAttribute('A', 'Int', json(['abc'])), /of type Int cannot hold "abc"$/);
    refused(() => decodeSearchAttribute('A', 'Bool', json('true')), /of type Bool/);
    refused(() => decodeSearchAttribute('A', 'Datetime', json('yesterday')), /of type Datetime/);
    refused(() => decodeSearchAttribute('A', 'KeywordList', json(['a', 1])), /of type KeywordList/);
    refused(() => decodeSearchAttribute('A', 'Keyword', json(['a', 'b'])), /of type Keyword cannot hold \["a","b"\]/);
    refused(() => decodeSearchAttribute('A', 'Keyword', { metadata: { encoding: Buffer.from('binary/plain') }, data: Buffer.from('x') }), /encoding "binary\/plain" is not supported/);
  });

  test('validation: defined names only, settable predefined ones allowed, system ones refused, size limits', () => {
    validateSearchAttributes(ns, { indexedFields: { CustomerId: json(1), Tags: json(['x']), TemporalChangeVersion: json(['p-1']), Region: nullPayload } });
    validateSearchAttributes(ns, null);
    refused(() => validateSearchAttributes(ns, { indexedFields: { Nope: json('x') } }), /^search attribute Nope is not defined in namespace shop; add it with temporal operator search-attribute create$/);
    refused(() => validateSearchAttributes(ns, { indexedFields: { WorkflowId: json('x') } }), /WorkflowId is reserved by system/);
    refused(() => validateSearchAttributes(ns, { indexedFields: { TemporalWorkerDeployment: json('x') } }), /reserved by system/);
    refused(() => validateSearchAttributes(ns, { indexedFields: { CustomerId: json('abc') } }), /CustomerId of type Int cannot hold "abc"/);
    refused(() => validateSearchAttributes(ns, { indexedFields: { Notes: json('x'.repeat(3000)) } }), /Notes value size 3002 exceeds size limit 2048/);
    // An upsert is checked against what the run holds after it.
    const held = { indexedFields: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`K${i}`, json('y'.repeat(1500))])) };
    refused(() => validateSearchAttributes(ns, { indexedFields: { Tags: json(['y']) } }, held), /total size of search attributes \d+ exceeds size limit 40960/);
    const crowded = { indexedFields: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`K${i}`, json(1)])) };
    refused(() => validateSearchAttributes(ns, { indexedFields: { CustomerId: json(1) } }, crowded), /number of search attributes 101 exceeds limit 100/);
  });

  test('typed values for visibility leave out what no longer decodes rather than fail', () => {
    const typed = typedSearchAttributes(ns, {
      indexedFields: { CustomerId: json(5), Removed: json('x'), Vip: json('not a bool'), Region: nullPayload, BuildIds: json(['b1']) },
    });
    assert.deepEqual(typed, { CustomerId: { type: 'Int', value: 5 }, BuildIds: { type: 'KeywordList', value: ['b1'] } });
  });

  test('an upsert sets what it names and removes what it clears (binary/null, null, an empty list)', () => {
    const held = { indexedFields: { A: json(1), B: json('b'), C: json(['c']), D: json(true) } };
    const merged = mergeSearchAttributes(held, { indexedFields: { A: json(2), B: nullPayload, C: json([]), D: json(null), E: json('e') } });
    assert.deepEqual(Object.keys(merged.indexedFields ?? {}).sort(), ['A', 'E']);
    assert.equal(Buffer.from(merged.indexedFields!.A!.data!).toString(), '2');
    assert.deepEqual(mergeSearchAttributes(null, null), { indexedFields: {} });
  });
});
