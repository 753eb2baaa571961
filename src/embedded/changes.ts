/**
 * State strings and the change log (RFC 8620 §5.1 `state`, §5.2 /changes). Each recorded change bumps the
 * per-account, per-type counter by one, so any state maps to an exact point in the log. State strings carry the
 * database's random epoch: a state from another (e.g. rebuilt) database is unknown, not misread.
 */
import type { Db } from './db.ts';

/** Data types with state in this server (RFC 8621 §2, §3, §4). */
export type DataType = 'Mailbox' | 'Email' | 'Thread';
/** `counts`: only the server-computed Mailbox counters changed (RFC 8621 §2.2 updatedProperties). */
export type ChangeKind = 'created' | 'updated' | 'destroyed' | 'counts';
export const DATA_TYPES: DataType[] = ['Mailbox', 'Email', 'Thread'];

/** Result of reading the log since a state (RFC 8620 §5.2 response). */
export interface ChangesSince {
  created: string[]; updated: string[]; destroyed: string[];
  newState: number; hasMoreChanges: boolean;
  /** True when every change in the range was a counter change (Mailbox updatedProperties). */
  onlyCounts: boolean;
}

export class ChangeLog {
  private dirty = new Set<string>();
  constructor(private db: Db, private epoch: string, private onChange: (accountId: string) => void) {}

  current(accountId: string, type: DataType): number {
    const row = this.db.prepare('SELECT value FROM states WHERE account_id = ? AND type = ?').get(accountId, type) as
      { value: number } | undefined;
    return row?.value ?? 0;
  }

  stateString(accountId: string, type: DataType): string {
    return `${this.current(accountId, type)}-${this.epoch}`;
  }

  /** The counter a state string stands for, or null if unknown, from the future, or pruned. */
  parse(accountId: string, type: DataType, state: unknown): number | null {
    if (typeof state !== 'string') return null;
    const m = /^(\d+)-([0-9a-f]+)$/.exec(state);
    if (!m || m[2] !== this.epoch) return null;
    const n = Number(m[1]);
    const row = this.db.prepare('SELECT value, floor FROM states WHERE account_id = ? AND type = ?').get(accountId, type) as
      { value: number; floor: number } | undefined;
    const [value, floor] = [row?.value ?? 0, row?.floor ?? 0];
    return n > value || n < floor ? null : n;
  }

  /** Records one change; call inside the mutation's transaction. */
  record(accountId: string, type: DataType, objectId: string, kind: ChangeKind): void {
    this.db.prepare(`INSERT INTO states (account_id, type, value) VALUES (?, ?, 1)
      ON CONFLICT(account_id, type) DO UPDATE SET value = value + 1`).run(accountId, type);
    const state = this.current(accountId, type);
    this.db.prepare('INSERT INTO changes (account_id, type, state, object_id, kind) VALUES (?, ?, ?, ?, ?)')
      .run(accountId, type, state, objectId, kind);
    if (this.dirty.size === 0) queueMicrotask(() => this.flush());
    this.dirty.add(accountId);
  }

  private flush(): void {
    const accounts = [...this.dirty];
    this.dirty.clear();
    for (const a of accounts) this.onChange(a);
  }

  /** Exact changes after `since`, at most `max` ids, cut only between states (RFC 8620 §5.2 maxChanges). */
  since(accountId: string, type: DataType, since: number, max: number | null): ChangesSince {
    const rows = this.db.prepare(`SELECT state, object_id AS id, kind FROM changes
      WHERE account_id = ? AND type = ? AND state > ? ORDER BY state`).all(accountId, type, since) as
      { state: number; id: string; kind: ChangeKind }[];
    const seen = new Map<string, { created: boolean; destroyed: boolean }>();
    let newState = since, hasMoreChanges = false, onlyCounts = true;
    for (const r of rows) {
      if (!seen.has(r.id) && max !== null && seen.size >= max) { hasMoreChanges = true; break; }
      const s = seen.get(r.id) ?? { created: false, destroyed: false };
      if (r.kind === 'created') { s.created = true; s.destroyed = false; }
      if (r.kind === 'destroyed') s.destroyed = true;
      if (r.kind !== 'counts') onlyCounts = false;
      seen.set(r.id, s);
      newState = r.state;
    }
    if (!hasMoreChanges) newState = this.current(accountId, type);
    const created: string[] = [], updated: string[] = [], destroyed: string[] = [];
    for (const [id, s] of seen) {
      if (s.created && s.destroyed) continue;
      (s.destroyed ? destroyed : s.created ? created : updated).push(id);
    }
    return { created, updated, destroyed, newState, hasMoreChanges, onlyCounts };
  }

  /** Forgets log entries up to `upTo`; older states then answer cannotCalculateChanges. */
  prune(accountId: string, type: DataType, upTo: number): void {
    this.db.prepare('DELETE FROM changes WHERE account_id = ? AND type = ? AND state <= ?').run(accountId, type, upTo);
    this.db.prepare('UPDATE states SET floor = MAX(floor, ?) WHERE account_id = ? AND type = ?').run(upTo, accountId, type);
  }
}
