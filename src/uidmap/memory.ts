/**
 * MemoryUidStore: an in-process UidStore (tests, ephemeral deployments). It honours every rule of store.ts within
 * one process: each method runs to completion without awaiting, so calls never interleave, which makes every
 * `assign` atomic. Nothing survives the process, so it must not back a gateway whose clients outlive it.
 */
import { ImapError } from '../protocol/errors.ts';
import type { EmailOrigin, MailboxSnapshot, MailboxUidState, SyncCommit, UidEntry, UidStore } from './store.ts';
import { nextUidValidity, MAX_UID } from './uidvalidity.ts';

/** One mailbox's map: live entries both ways, expunge history (RFC 7162 VANISHED), `\Deleted` UIDs. */
interface MailboxMap {
  state: MailboxUidState;
  byEmail: Map<string, number>;
  byUid: Map<number, string>;
  /** Expunged UIDs with the email id they held, when (ms since epoch) and their expunge mod-sequence. */
  expunged: Map<number, { emailId: string; at: number; modseq: number }>;
  /** RFC 7162 §3.1 mod-sequence of each live UID. */
  modseq: Map<number, number>;
  deleted: Set<number>;
}

export interface MemoryUidStoreOptions {
  /** Clock in ms since the epoch (tests inject one to check the UIDVALIDITY seed). */
  now?: () => number;
}

export class MemoryUidStore implements UidStore {
  private readonly mailboxes = new Map<string, MailboxMap>();
  /** RFC 8474 §5.1 origins of re-imported copies, keyed by [account, emailId] (`setOrigins`). */
  private readonly origins = new Map<string, EmailOrigin>();
  /** The largest UIDVALIDITY this store ever issued (store-wide, never decreases). */
  private maxUidValidity = 0;
  private readonly now: () => number;
  private closed = false;

  constructor(options: MemoryUidStoreOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** The mailbox's map, or undefined when never seen (reads do not create mailboxes). */
  private peek(account: string, mailboxId: string): MailboxMap | undefined {
    if (this.closed) throw ImapError.no('UID store is closed', 'UNAVAILABLE');
    return this.mailboxes.get(JSON.stringify([account, mailboxId]));
  }

  /** The mailbox's map, created with a fresh UIDVALIDITY on first sight. */
  private box(account: string, mailboxId: string): MailboxMap {
    let box = this.peek(account, mailboxId);
    if (!box) {
      this.maxUidValidity = nextUidValidity(this.maxUidValidity, this.now());
      box = {
        state: { uidValidity: this.maxUidValidity, uidNext: 1, syncState: null, version: 0, highestModseq: 1 },
        byEmail: new Map(), byUid: new Map(), expunged: new Map(), deleted: new Set(), modseq: new Map(),
      };
      this.mailboxes.set(JSON.stringify([account, mailboxId]), box);
    }
    return box;
  }

  async openMailbox(account: string, mailboxId: string): Promise<MailboxUidState> {
    return { ...this.box(account, mailboxId).state };
  }

  async assign(account: string, mailboxId: string, emailIds: string[]): Promise<Map<string, number>> {
    const box = this.box(account, mailboxId);
    return this.assignNow(box, emailIds, modseqOnce(box));
  }

  private assignNow(box: MailboxMap, emailIds: string[], modseq: () => number): Map<string, number> {
    const fresh = new Set(emailIds.filter((id) => !box.byEmail.has(id)));
    if (box.state.uidNext - 1 + fresh.size > MAX_UID) throw ImapError.no('UID space of this mailbox is exhausted', 'LIMIT');
    const out = new Map<string, number>();
    for (const id of emailIds) {
      let uid = box.byEmail.get(id);
      if (uid === undefined) {
        box.modseq.set(box.state.uidNext, modseq());
        uid = box.state.uidNext++;
        box.byEmail.set(id, uid);
        box.byUid.set(uid, id);
      }
      out.set(id, uid);
    }
    return out;
  }

  async list(account: string, mailboxId: string): Promise<UidEntry[]> {
    const box = this.peek(account, mailboxId);
    return box ? entriesOf(box) : [];
  }

  async snapshot(account: string, mailboxId: string): Promise<MailboxSnapshot> {
    const box = this.box(account, mailboxId);
    const entries = entriesOf(box);
    return { ...box.state, entries, modseqs: entries.map((e) => box.modseq.get(e.uid)!) };
  }

  async commitSync(account: string, mailboxId: string, c: SyncCommit): Promise<{ state: MailboxUidState; assigned: Map<string, number> } | null> {
    const box = this.box(account, mailboxId);
    if (box.state.version !== c.version) return null;
    if (box.state.uidNext - 1 + c.assign.length > MAX_UID) throw ImapError.no('UID space of this mailbox is exhausted', 'LIMIT');
    const modseq = modseqOnce(box); // one commit, one change: one new mod-sequence
    this.expungeNow(box, c.expunge, modseq); // synchronous helpers: no await point, so one atomic step
    const assigned = this.assignNow(box, c.assign, modseq);
    this.touchNow(box, (c.touch ?? []).flatMap((id) => box.byEmail.get(id) ?? []), modseq);
    box.state.syncState = c.syncState;
    box.state.version++;
    return { state: { ...box.state }, assigned };
  }

  async expunge(account: string, mailboxId: string, uids: number[]): Promise<number[]> {
    const box = this.peek(account, mailboxId); // an unknown mailbox has nothing live: not created
    return box ? this.expungeNow(box, uids, modseqOnce(box)) : [];
  }

  /** Removes the live ones of `uids`, bumping the sync version once when any went; returns them ascending. */
  private expungeNow(box: MailboxMap, uids: number[], modseq: () => number): number[] {
    const at = this.now();
    const removed: number[] = [];
    for (const uid of uids) {
      const emailId = box.byUid.get(uid);
      if (emailId === undefined) continue;
      box.modseq.delete(uid);
      box.byUid.delete(uid);
      box.byEmail.delete(emailId);
      box.deleted.delete(uid);
      box.expunged.set(uid, { emailId, at, modseq: modseq() });
      removed.push(uid);
    }
    if (removed.length > 0) box.state.version++;
    return removed.sort((a, b) => a - b);
  }

  /** One new mod-sequence for the live `uids` (none live: nothing changes). */
  private touchNow(box: MailboxMap, uids: number[], modseq: () => number): void {
    for (const u of uids) if (box.byUid.has(u)) box.modseq.set(u, modseq());
  }

  async touch(account: string, mailboxId: string, uids: number[]): Promise<number> {
    const box = this.box(account, mailboxId);
    this.touchNow(box, uids, modseqOnce(box));
    return box.state.highestModseq;
  }

  async vanished(account: string, mailboxId: string, sinceModseq: number): Promise<number[]> {
    const box = this.peek(account, mailboxId);
    if (!box) return [];
    return [...box.expunged].filter(([, e]) => e.modseq > sinceModseq).map(([uid]) => uid).sort((a, b) => a - b);
  }

  async setSyncState(account: string, mailboxId: string, syncState: string): Promise<void> {
    const { state } = this.box(account, mailboxId);
    if (state.syncState !== syncState) state.version++;
    state.syncState = syncState;
  }

  async advanceSyncState(account: string, mailboxId: string, from: string, to: string): Promise<boolean> {
    const box = this.peek(account, mailboxId);
    if (!box || box.state.syncState !== from) return false;
    if (from !== to) box.state.version++;
    box.state.syncState = to;
    return true;
  }

  async resetMailbox(account: string, mailboxId: string): Promise<void> {
    if (this.closed) throw ImapError.no('UID store is closed', 'UNAVAILABLE');
    this.mailboxes.delete(JSON.stringify([account, mailboxId]));
  }

  async getDeleted(account: string, mailboxId: string): Promise<Set<number>> {
    return new Set(this.peek(account, mailboxId)?.deleted);
  }

  async setDeleted(account: string, mailboxId: string, uids: number[], deleted: boolean): Promise<void> {
    const box = this.box(account, mailboxId);
    for (const uid of uids) {
      if (!deleted) box.deleted.delete(uid);
      else if (box.byUid.has(uid)) box.deleted.add(uid);
    }
  }

  async setOrigins(account: string, origins: Map<string, EmailOrigin>): Promise<void> {
    if (this.closed) throw ImapError.no('UID store is closed', 'UNAVAILABLE');
    for (const [id, o] of origins) {
      const key = JSON.stringify([account, id]);
      if (!this.origins.has(key)) this.origins.set(key, { ...o });
    }
  }

  async getOrigins(account: string, emailIds: string[]): Promise<Map<string, EmailOrigin>> {
    if (this.closed) throw ImapError.no('UID store is closed', 'UNAVAILABLE');
    return new Map(emailIds.flatMap((id) => {
      const o = this.origins.get(JSON.stringify([account, id]));
      return o ? [[id, { ...o }] as const] : [];
    }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** The one new mod-sequence of a write, taken on first use (RFC 7162 §3.1). */
function modseqOnce(box: MailboxMap): () => number {
  let value: number | undefined;
  return () => (value ??= ++box.state.highestModseq);
}

function entriesOf(box: MailboxMap): UidEntry[] {
  return [...box.byUid].map(([uid, emailId]) => ({ uid, emailId })).sort((a, b) => a.uid - b.uid);
}
