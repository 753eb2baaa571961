/** Fan-out of account state changes to EventSource connections (RFC 8620 §7.3). */
export class PushHub {
  private listeners = new Map<string, Set<() => void>>();

  subscribe(accountId: string, fn: () => void): () => void {
    const set = this.listeners.get(accountId) ?? new Set();
    set.add(fn);
    this.listeners.set(accountId, set);
    return () => { set.delete(fn); if (set.size === 0) this.listeners.delete(accountId); };
  }

  notify(accountId: string): void {
    for (const fn of [...(this.listeners.get(accountId) ?? [])]) fn();
  }

  /** Ends every open stream (store shutdown). */
  closeAll: Set<() => void> = new Set();
}
