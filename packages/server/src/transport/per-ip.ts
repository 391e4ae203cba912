/** Counts open connections per client address, to refuse those over a limit (off when 0). */
export class ConnectionsPerIp {
  private readonly counts = new Map<string, number>();

  constructor(private readonly limit: number) {}

  /** Counts a new connection from `address`; false (and not counted) when it is over the limit. */
  acquire(address: string): boolean {
    if (this.limit <= 0) return true;
    const count = this.counts.get(address) ?? 0;
    if (count >= this.limit) return false;
    this.counts.set(address, count + 1);
    return true;
  }

  /** Forgets a closed connection from `address`. */
  release(address: string): void {
    if (this.limit <= 0) return;
    const count = (this.counts.get(address) ?? 1) - 1;
    if (count <= 0) this.counts.delete(address);
    else this.counts.set(address, count);
  }
}
