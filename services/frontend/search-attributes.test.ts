// OperatorService Add/List/RemoveSearchAttributes through the official client: every Temporal
// type, a namespace's attributes kept in its record, and the reference server's errors.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { enums } from '../common/temporal.js';
import { customSearchAttributes } from '../namespaces/search-attributes.js';
import { grpcError, startFrontend, type Fixture } from './test-helpers.js';

const T = enums.IndexedValueType;
const every = {
  CustomKeyword: T.INDEXED_VALUE_TYPE_KEYWORD,
  CustomText: T.INDEXED_VALUE_TYPE_TEXT,
  CustomInt: T.INDEXED_VALUE_TYPE_INT,
  CustomDouble: T.INDEXED_VALUE_TYPE_DOUBLE,
  CustomBool: T.INDEXED_VALUE_TYPE_BOOL,
  CustomDatetime: T.INDEXED_VALUE_TYPE_DATETIME,
  CustomKeywordList: T.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

describe('OperatorService search attributes', () => {
  let f: Fixture;
  const op = () => f.connection.operatorService;
  before(async () => {
    f = await startFrontend();
    await f.namespaces.register({ name: 'default' });
  });
  after(() => f.close());

  test('added attributes of every type are listed, stored in the namespace record, beside the system ones', async () => {
    const before = (await f.namespaces.requireByName('default')).notificationVersion;
    await op().addSearchAttributes({ namespace: 'default', searchAttributes: every });
    const list = await op().listSearchAttributes({ namespace: 'default' });
    assert.deepEqual(list.customAttributes, every);
    assert.equal(list.systemAttributes.WorkflowId, T.INDEXED_VALUE_TYPE_KEYWORD);
    assert.equal(list.systemAttributes.StartTime, T.INDEXED_VALUE_TYPE_DATETIME);
    assert.equal(list.systemAttributes.TemporalChangeVersion, T.INDEXED_VALUE_TYPE_KEYWORD_LIST);
    assert.equal(list.systemAttributes.BuildIds, T.INDEXED_VALUE_TYPE_KEYWORD_LIST);
    const rec = (await f.persistence.namespaces.getNamespaceByName('default'))!;
    assert.equal(rec.notificationVersion, before + 1n, 'written through the namespace update path');
    assert.equal(customSearchAttributes(rec).CustomInt, 'Int');
  });

  test('adding an existing attribute with its type is a no-op; with another type ALREADY_EXISTS', async () => {
    const version = (await f.namespaces.requireByName('default')).notificationVersion;
    await op().addSearchAttributes({ namespace: 'default', searchAttributes: { CustomInt: T.INDEXED_VALUE_TYPE_INT } });
    assert.equal((await f.namespaces.requireByName('default')).notificationVersion, version);
    const err = await grpcError(op().addSearchAttributes({ namespace: 'default', searchAttributes: { CustomInt: T.INDEXED_VALUE_TYPE_KEYWORD } }));
    assert.equal(err.code, grpc.status.ALREADY_EXISTS);
    assert.match(err.details, /CustomInt already exists with type Int/);
  });

  test('reserved names, unknown types and an empty request are INVALID_ARGUMENT', async () => {
    for (const name of ['WorkflowId', 'BuildIds', 'TemporalFoo']) {
      const err = await grpcError(op().addSearchAttributes({ namespace: 'default', searchAttributes: { [name]: T.INDEXED_VALUE_TYPE_KEYWORD } }));
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
      assert.match(err.details, /reserved by system/);
    }
    const unknownType = await grpcError(op().addSearchAttributes({ namespace: 'default', searchAttributes: { Fine: 99 as never } }));
    assert.equal(unknownType.code, grpc.status.INVALID_ARGUMENT);
    assert.equal((await grpcError(op().addSearchAttributes({ namespace: 'default', searchAttributes: {} }))).code, grpc.status.INVALID_ARGUMENT);
    assert.equal((await grpcError(op().listSearchAttributes({ namespace: 'nope' }))).code, grpc.status.NOT_FOUND);
  });

  test('remove: a custom attribute goes; an unknown one is NOT_FOUND; a system one INVALID_ARGUMENT', async () => {
    await op().removeSearchAttributes({ namespace: 'default', searchAttributes: ['CustomText'] });
    assert.equal((await op().listSearchAttributes({ namespace: 'default' })).customAttributes.CustomText, undefined);
    const unknown = await grpcError(op().removeSearchAttributes({ namespace: 'default', searchAttributes: ['CustomText'] }));
    assert.equal(unknown.code, grpc.status.NOT_FOUND);
    assert.match(unknown.details, /CustomText doesn't exist/);
    const system = await grpcError(op().removeSearchAttributes({ namespace: 'default', searchAttributes: ['WorkflowId'] }));
    assert.equal(system.code, grpc.status.INVALID_ARGUMENT);
  });
});
