// Workflows that set search attributes and memo from inside (search-attributes.test.ts).
import { defineSearchAttributeKey } from '@temporalio/common';
import { condition, defineSignal, patched, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';

export const finishSignal = defineSignal('finish');

/** Upserts a Keyword, an Int and a KeywordList, changes the memo, patches, then waits to be told to finish. */
export async function upsertingWorkflow(): Promise<string> {
  let finish = false;
  setHandler(finishSignal, () => void (finish = true));
  upsertSearchAttributes([
    { key: defineSearchAttributeKey('CustomKeyword', 'KEYWORD'), value: 'upserted' },
    { key: defineSearchAttributeKey('CustomInt', 'INT'), value: 42 },
    { key: defineSearchAttributeKey('CustomKeywordList', 'KEYWORD_LIST'), value: ['x', 'y'] },
  ]);
  upsertMemo({ stage: 'upserted' });
  const withPatch = patched('sa-patch');
  await condition(() => finish);
  return withPatch ? 'patched' : 'unpatched';
}

/**
 * Upserts a value its attribute's type cannot hold: the server fails the workflow task. The legacy
 * untyped form, as the typed one is refused by the SDK itself.
 */
export async function badUpsertWorkflow(): Promise<void> {
  upsertSearchAttributes({ CustomInt: ['abc'] });
  await condition(() => false);
}
