// Membership inside one process: the embedded default, and the way tests put several nodes in
// one process. An InMemoryCluster is the shared live set; each InMemoryMembership is one node's
// view of it.
import type { Member, Membership, Role } from './membership.js';

/** What the cluster knows of a node that runs an InMemoryMembership. */
interface Attachment {
  changed(): void;
  /** The node is cut off: its view freezes where it was, and it hears nothing more. */
  cut(): void;
}

function byId(a: Member, b: Member): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class InMemoryCluster {
  private readonly live = new Map<string, Member>();
  private readonly attached = new Map<string, Attachment>();
  /** Killed nodes that an InMemoryMembership runs, so revive() can bring them back. */
  private readonly killed = new Map<string, { member: Member; attachment: Attachment }>();

  /** Live members of a role, sorted by id. */
  members(role: Role): Member[] {
    return [...this.live.values()].filter((m) => m.role === role).sort(byId);
  }

  /** Adds a member; `attachment` is given by InMemoryMembership so the node hears changes. */
  join(member: Member, attachment?: Attachment): void {
    const current = this.live.get(member.id);
    if (current && current !== member) throw new Error(`member id ${member.id} is already in the cluster`);
    this.killed.delete(member.id);
    this.live.set(member.id, member);
    if (attachment) this.attached.set(member.id, attachment);
    this.notify();
  }

  /** A graceful leave (what InMemoryMembership.stop does). */
  leave(id: string): void {
    this.killed.delete(id);
    this.attached.delete(id);
    if (this.live.delete(id)) this.notify();
  }

  /**
   * A crash, a pause or a partition as the others see it: the member drops out of the live set
   * at once, while the node itself keeps its last view and hears no change until revive(). A
   * node that is really alive keeps serving what it owned until fencing stops it.
   */
  kill(id: string): void {
    const member = this.live.get(id);
    if (!member) return;
    const attachment = this.attached.get(id);
    if (attachment) {
      // Frozen before the removal: the node's last view still has itself in it.
      attachment.cut();
      this.killed.set(id, { member, attachment });
    }
    this.attached.delete(id);
    this.live.delete(id);
    this.notify();
  }

  /** Undoes kill(): the node rejoins and sees the live set again, like a resumed process. */
  revive(id: string): void {
    const k = this.killed.get(id);
    if (!k) throw new Error(`member ${id} is not a killed member of this cluster`);
    this.join(k.member, k.attachment);
  }

  private notify(): void {
    for (const a of [...this.attached.values()]) a.changed();
  }
}

export class InMemoryMembership implements Membership {
  private readonly listeners = new Set<() => void>();
  /** Set while the node is cut off from the cluster (killed): its frozen view. */
  private frozen: Map<Role, Member[]> | null = null;
  private started = false;

  constructor(
    private readonly cluster: InMemoryCluster,
    readonly self: Member,
  ) {}

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.frozen = null;
    this.cluster.join(this.self, {
      changed: () => this.changed(),
      cut: () => this.freeze(),
    });
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.cluster.leave(this.self.id);
  }

  members(role: Role): Member[] {
    return [...(this.frozen?.get(role) ?? this.cluster.members(role))];
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private freeze(): void {
    const roles: Role[] = ['history', 'matching', 'frontend'];
    this.frozen = new Map(roles.map((r) => [r, this.cluster.members(r)]));
  }

  private changed(): void {
    this.frozen = null;
    // Listeners run after the mutation that caused them returns, so a listener may call back
    // into the cluster (join, leave) without re-entering it.
    queueMicrotask(() => {
      for (const l of [...this.listeners]) l();
    });
  }
}
