/**
 * The one in-memory LRU with a byte budget, for what never changes for a given key (DESIGN.md rule 9, RFC 8621
 * §4.1: everything derived from the raw message is immutable per Email id / blobId): the blob-derived cache, the
 * search caches and the in-memory message cache use it.
 */
export class ByteLru<V> {
  private readonly map = new Map<string, { value: V; bytes: number }>();
  private used = 0;

  constructor(private readonly budget: number) {}

  get(key: string): V | undefined {
    const e = this.map.get(key);
    if (!e) return undefined;
    this.map.delete(key);
    this.map.set(key, e); // most recently used last
    return e.value;
  }

  /** Stores the value unless it alone exceeds the budget; evicts the least recently used entries to fit. */
  set(key: string, value: V, bytes: number): void {
    const old = this.map.get(key);
    if (old) { this.used -= old.bytes; this.map.delete(key); }
    if (bytes > this.budget) return;
    this.map.set(key, { value, bytes });
    this.used += bytes;
    for (const [k, e] of this.map) {
      if (this.used <= this.budget) break;
      this.map.delete(k);
      this.used -= e.bytes;
    }
  }

  delete(key: string): void {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.used -= e.bytes;
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
    this.used = 0;
  }
}

