/**
 * Revoked socket ids on this node: `endpoint.revoke(id)` records, on every node, when the id's
 * tokens were revoked. A token whose `connect` (or `refresh`) gives its issue time
 * (`accept(assigns, { issuedAt })`) and that was issued at or before that time is refused; a
 * token issued later (a new sign-in) is not. Entries are forgotten after `ttlMs` (set it to your
 * tokens' longest lifetime). The list lives in memory: a node that starts after a revocation
 * does not know it, so keep revocations that must outlive that in your own store as well.
 */

/** When each revoked socket id was revoked, forgotten after a time to live. */
export class Revocations {
  private readonly revoked = new Map<string, number>();

  constructor(private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  /** Records that the tokens of `socketId` issued at or before `at` (epoch ms) are revoked. */
  add(socketId: string, at: number): void {
    this.prune();
    const previous = this.revoked.get(socketId) ?? 0;
    this.revoked.delete(socketId); // re-inserted last, so the map stays in revocation order
    this.revoked.set(socketId, Math.max(at, previous));
  }

  /** True when a token of `socketId` issued at `issuedAt` (epoch ms) is revoked. */
  isRevoked(socketId: string, issuedAt: number): boolean {
    const at = this.revoked.get(socketId);
    return at !== undefined && issuedAt <= at && this.now() - at < this.ttlMs;
  }

  /** How many revocations are remembered. */
  get size(): number {
    return this.revoked.size;
  }

  private prune(): void {
    const horizon = this.now() - this.ttlMs;
    for (const [id, at] of this.revoked) {
      if (at >= horizon) break;
      this.revoked.delete(id);
    }
  }
}
