// Stride scheduling, the reference's fairness: within a subqueue every fairness key has a pass
// that grows by the key's stride (fewer passes for a heavier key) with each task, and tasks are
// dispatched in pass order. Keys so get dispatches in proportion to their weights, and a key with
// a long backlog cannot starve one with a few tasks: those start at the dispatch front, ahead of
// the long backlog's tail. A key idle for a while starts at the front again, with no credit saved.
export class PassCounter {
  /** Last pass per key, least recently used first. */
  private readonly passes = new Map<string, bigint>();

  /** maxKeys bounds memory; a forgotten key restarts at the front, as a new one. */
  constructor(private readonly maxKeys: number) {}

  /** The pass of the key's next task: a stride after its last one, never behind `front`. */
  next(key: string, front: bigint, stride: bigint): bigint {
    const last = this.passes.get(key);
    const pass = last === undefined || last + stride < front ? front : last + stride;
    this.remember(key, pass);
    return pass;
  }

  /** A stored task of the key, read back: the key's next tasks go after it. */
  observe(key: string, pass: bigint): void {
    const last = this.passes.get(key);
    if (last === undefined || pass > last) this.remember(key, pass);
  }

  private remember(key: string, pass: bigint): void {
    this.passes.delete(key);
    this.passes.set(key, pass);
    if (this.passes.size > this.maxKeys) this.passes.delete(this.passes.keys().next().value!);
  }
}
