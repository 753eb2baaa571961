/**
 * The one in-memory LRU with a byte budget, for what never changes for a given key (DESIGN.md rule 9, RFC 8621
 * §4.1: everything derived from the raw message is immutable per Email id / blobId): the blob-derived cache, the
 * search caches and the in-memory message cache use it.
 *
 * Keys are (scope, key) pairs: a scope (e.g. an account key) holds its own map of keys, so a caller with a scope
 * and a JMAP id never builds a `${scope}\0${id}` string per lookup (a warm folder listing looks up thousands; each
 * concatenated key had to be flattened and hashed again).
 *
 * Least recently used in spirit, by second chance (CLOCK): entries sit in an intrusive doubly linked list in the
 * order they were stored; a hit only sets the entry's `hot` mark (no map or list change: a warm listing hits
 * thousands of entries, and relinking each touched three more scattered objects). Eviction takes the oldest entry;
 * a hot one instead loses its mark and moves to the newest end. So an entry used since the last time eviction
 * passed it stays, and one stored or used long ago goes first.
 */
interface Entry<V> {
  readonly scope: string;
  readonly key: string;
  value: V;
  bytes: number;
  /** Used since stored or since eviction last passed it (second chance). */
  hot: boolean;
  /** Neighbours in the eviction order: `prev` goes before, `next` after (the sentinel closes the ring). */
  prev: Entry<V>;
  next: Entry<V>;
}

export class ByteLru<V> {
  private readonly scopes = new Map<string, Map<string, Entry<V>>>();
  /** Sentinel of the ring: `head.next` is the next entry eviction looks at, `head.prev` the newest. */
  private readonly head: Entry<V>;
  private used = 0;
  private count = 0;

  constructor(private readonly budget: number) {
    const head = { scope: '', key: '', value: undefined, bytes: 0, hot: false } as unknown as Entry<V>; // never a value
    head.prev = head.next = head;
    this.head = head;
  }

  /** The value (now marked as used), or undefined. */
  get(key: string, scope = ''): V | undefined {
    const e = this.scopes.get(scope)?.get(key);
    if (!e) return undefined;
    e.hot = true;
    return e.value;
  }

  /** Stores the value unless it alone exceeds the budget; evicts the least recently used entries (above) to fit. */
  set(key: string, value: V, bytes: number, scope = ''): void {
    const old = this.scopes.get(scope)?.get(key);
    if (old) this.remove(old);
    if (bytes > this.budget) return;
    let inner = this.scopes.get(scope);
    if (!inner) this.scopes.set(scope, (inner = new Map()));
    const e: Entry<V> = { scope, key, value, bytes, hot: false, prev: this.head, next: this.head };
    inner.set(key, e);
    this.append(e);
    this.used += bytes;
    this.count++;
    while (this.used > this.budget) {
      const oldest = this.head.next;
      if (oldest.hot || oldest === e) { // `e` itself never: it alone fits the budget
        oldest.hot = false;
        unlink(oldest);
        this.append(oldest);
      } else {
        this.remove(oldest);
      }
    }
  }

  delete(key: string, scope = ''): void {
    const e = this.scopes.get(scope)?.get(key);
    if (e) this.remove(e);
  }

  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.count;
  }

  clear(): void {
    this.scopes.clear();
    this.head.prev = this.head.next = this.head;
    this.used = 0;
    this.count = 0;
  }

  private append(e: Entry<V>): void {
    const last = this.head.prev;
    e.prev = last;
    e.next = this.head;
    last.next = e;
    this.head.prev = e;
  }

  private remove(e: Entry<V>): void {
    unlink(e);
    const inner = this.scopes.get(e.scope)!;
    inner.delete(e.key);
    if (inner.size === 0) this.scopes.delete(e.scope);
    this.used -= e.bytes;
    this.count--;
  }
}

function unlink<V>(e: Entry<V>): void {
  e.prev.next = e.next;
  e.next.prev = e.prev;
}
