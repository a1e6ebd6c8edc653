/**
 * shard = fnv1a32(namespaceId + "/" + workflowId) mod numShards (DESIGN invariant 1). Every
 * region and every process must agree on it, so it is defined once, here.
 */
export function shardIdFor(namespaceId: string, workflowId: string, numShards: number): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(`${namespaceId}/${workflowId}`, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % numShards;
}
