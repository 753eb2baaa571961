/**
 * The selected mailbox as one session sees it (RFC 9051 §2.3.1.2): message sequence numbers are positions in
 * this session's view, which changes only when the session reports it (EXPUNGE / EXISTS, RFC 9051 §7.5.1), never
 * behind the client's back.
 */
import type { EmailMeta } from '../backend/backend.ts';
import { ImapError } from '../protocol/errors.ts';
import type { FetchResponseItem, SequenceSet } from '../protocol/types.ts';
import { expandSequence, lowerBound, matchUids } from '../protocol/sequence.ts';
import type { ImapMailbox } from './mailboxes.ts';
import type { Session } from './session.ts';
import { catchUp, syncMailbox, type Prefetch, type SyncedMailbox } from './sync.ts';
import { accountOf, inReadOnlyAccount } from './shared-accounts.ts';
import { keywordToFlag } from './flags.ts';
import { freshModseqs, isCondstore, isQresync } from './condstore.ts';

/** One message addressed by a command: its sequence number, UID and JMAP email id. */
export interface MessageRef {
  seq: number;
  uid: number;
  emailId: string;
}

export class MailboxView {
  /** UIDs ascending (index + 1 = sequence number). Read-only: may be the sync's shared column (sync.ts Columns). */
  uids: readonly number[] = [];
  /** Email ids, same index. Read-only, shared like `uids`. */
  emailIds: readonly string[] = [];
  uidNext = 1;
  emailState = '';
  /**
   * RFC 7162 §3.1 mod-sequence of each message (same index as `uids`), as last read from the UID store. May be the
   * sync's shared array: change it through `setModseqs` only (copy on first write).
   */
  modseqs: number[] = [];
  /** RFC 7162 §3.1.1 HIGHESTMODSEQ as of the last sync this view adopted. */
  highestModseq = 1;
  /**
   * RFC 7162 §3.2 / §6: the HIGHESTMODSEQ of the last sync whose changes this view reported in full (SELECT,
   * NOOP, IDLE...): every expunge not yet reported to the client has a higher mod-sequence (condstore.ts guard).
   */
  reportedModseq = 0;
  /** UIDs carrying the gateway-kept `\Deleted` flag (DESIGN.md rule 6). */
  deleted = new Set<number>();
  /** RFC 5182 / RFC 9051 §6.4.4.1 search result variable (`$`), as UIDs; a new view (SELECT) starts empty. */
  savedUids: number[] = [];
  /**
   * The flags this session last showed the client per UID (a FETCH FLAGS of any command), or that its own STORE
   * .SILENT set (RFC 9051 §6.4.6: the client "has determined the updated value itself"). A catch-up reports a
   * changed message only when its flags differ from these, so a session is not told its own changes again (as
   * Dovecot does), while changes by another session or in JMAP still are (RFC 9051 §7.5.2). Keys: flagsKey().
   */
  private shown = new Map<number, string>();

  private constructor(
    readonly mailbox: ImapMailbox,
    readonly readOnly: boolean,
    readonly uidValidity: number,
  ) {}

  /**
   * The refusal of a write in a read-only view: NO [NOPERM] in an account shared read-only with the user (RFC 5530:
   * the access control forbids it; RFC 8620 §2 isReadOnly), else NO [READ-ONLY] (EXAMINE, or a mailbox's rights).
   */
  readOnlyError(): ImapError {
    if (inReadOnlyAccount(this.mailbox)) return ImapError.no('Permission denied: the account is shared read-only', 'NOPERM');
    return ImapError.no('Mailbox is read-only', 'READ-ONLY');
  }

  get exists(): number {
    return this.uids.length;
  }

  get mailboxId(): string {
    return this.mailbox.info.id;
  }

  /** `prefetch`: the sync's first `Email/changes` page when SELECT already has it (tree-cache.ts, sync.ts Prefetch). */
  static async open(s: Session, mailbox: ImapMailbox, readOnly: boolean, prefetch?: Prefetch): Promise<MailboxView> {
    const account = accountOf(s, mailbox); // the user's own, or a shared account (shared-accounts.ts)
    const synced = await syncMailbox(account.backend, s.config.uidStore, account.accountKey, mailbox.info.id, prefetch);
    const view = new MailboxView(mailbox, readOnly, synced.uidValidity);
    view.adopt(synced);
    view.deleted = await s.config.uidStore.getDeleted(account.accountKey, mailbox.info.id);
    return view;
  }

  /** `modseqs` is the sync's shared array (SyncedMailbox.modseqs): copied before the first change (setModseqs). */
  private modseqsShared = false;

  private adopt(synced: SyncedMailbox): void {
    this.uids = synced.columns.uids; // the shared columns (sync.ts Columns), never changed in place: O(1) at 100k
    this.emailIds = synced.columns.emailIds;
    this.modseqs = synced.modseqs;
    this.modseqsShared = true;
    this.highestModseq = Math.max(this.highestModseq, synced.highestModseq);
    this.reportedModseq = synced.highestModseq;
    this.uidNext = synced.uidNext;
    this.emailState = synced.emailState;
  }

  /**
   * Catch up with the store and tell the client (RFC 9051 §7.5.1: only where EXPUNGE may be sent: NOOP, CHECK,
   * IDLE, SELECT). One `Email/changes` when nothing changed; otherwise the incremental sync (sync.ts catchUp),
   * whose `Email/get` of the changed ids also gives the keywords for the FETCH FLAGS reports. Returns how many
   * messages it reported expunged.
   */
  async refresh(s: Session): Promise<number> {
    const account = s.account!;
    const synced = await catchUp(account.backend, s.config.uidStore, account.accountKey, this.mailboxId, this.emailState);
    // `\Deleted` lives in the UID store, not in JMAP: another session's STORE of it changes no JMAP state.
    const deletedNow = await s.config.uidStore.getDeleted(account.accountKey, this.mailboxId);
    const flipped = this.deletedFlips(deletedNow);
    this.deleted = deletedNow;
    if ('unchanged' in synced) {
      this.emailState = synced.emailState;
      await this.reportDeletedFlips(s, flipped, NONE);
      return 0;
    }
    if (synced.uidValidity !== this.uidValidity) throw ImapError.bye('Mailbox was replaced; please reselect', 'UIDVALIDITY');
    const old = this.uids;
    const next = synced.columns.uids;
    const gone = new Set(missingFrom(old, next));
    await this.reportExpunged(s, gone, true);
    for (const u of this.deleted) if (!contains(next, u)) this.deleted.delete(u);
    for (const u of gone) this.shown.delete(u); // `shown` holds only UIDs of the view
    const kept = old.length - gone.size;
    this.adopt(synced);
    // EXPUNGE already told the client about removals; EXISTS only when messages arrived (RFC 9051 §7.4.1).
    if (this.uids.length > kept) await s.send({ type: 'EXISTS', count: this.uids.length });
    await this.reportFlagChanges(s, synced.changed, (u) => contains(old, u));
    await this.reportDeletedFlips(s, flipped.filter((u) => !gone.has(u)), new Set(synced.changed.map((m) => m.id)));
    return gone.size;
  }

  /** UIDs of the view whose `\Deleted` differs between the view's set and `now`, ascending. */
  private deletedFlips(now: ReadonlySet<number>): number[] {
    const flips: number[] = [];
    for (const u of now) if (!this.deleted.has(u) && this.has(u)) flips.push(u);
    for (const u of this.deleted) if (!now.has(u) && this.has(u)) flips.push(u);
    return flips.sort((a, b) => a - b);
  }

  /** FETCH FLAGS for messages whose `\Deleted` another session changed (those not already reported). */
  private async reportDeletedFlips(s: Session, uids: number[], reported: ReadonlySet<string>): Promise<void> {
    if (uids.length === 0) return;
    const ids = uids.flatMap((u) => {
      const i = lowerBound(this.uids, u);
      const id = this.uids[i] === u ? this.emailIds[i] : undefined;
      return id !== undefined && !reported.has(id) ? [id] : [];
    });
    if (ids.length === 0) return;
    if (isCondstore(s)) await freshModseqs(s);
    const flips = new Set(uids);
    await this.reportFlagChanges(s, await s.account!.backend.getEmails(ids), (u) => flips.has(u));
  }

  /** Unsolicited FETCH FLAGS for messages the client knew whose keywords changed elsewhere (RFC 9051 §7.5.2). */
  private async reportFlagChanges(s: Session, changed: EmailMeta[], known: (uid: number) => boolean): Promise<void> {
    if (changed.length === 0) return;
    const positionOf = positionsOf(this.emailIds, changed.length);
    for (const meta of changed) {
      const i = positionOf(meta.id);
      if (i < 0 || !known(this.uids[i]!)) continue;
      const flags = this.flagsOf(this.uids[i]!, meta.keywords);
      if (this.shown.get(this.uids[i]!) === flagsKey(flags)) continue; // the client has these flags already
      this.noteShown(this.uids[i]!, flags);
      const items: FetchResponseItem[] = [{ type: 'UID', uid: this.uids[i]! }, { type: 'FLAGS', flags }];
      if (isCondstore(s)) items.push({ type: 'MODSEQ', modseq: this.modseqs[i]! }); // RFC 7162 §3.1
      await s.send({ type: 'FETCH', seq: i + 1, items });
    }
  }

  /**
   * The one place that tells the client messages of the view are gone (only at the moments RFC 9051 §7.5.1 allows).
   * After ENABLE QRESYNC: one `* VANISHED uids` without EARLIER (RFC 7162 §3.2.10.2; the client decrements EXISTS
   * per UID). Otherwise `* n EXPUNGE` for each: highest first when `descending` (no number shifts), else in
   * ascending order, each number counted after the previous ones took effect, as in the RFC 9051 §6.4.3 example.
   * Does not change the view.
   */
  private async reportExpunged(s: Session, uids: ReadonlySet<number>, descending = false): Promise<void> {
    const gone = this.uids.filter((u) => uids.has(u));
    if (gone.length === 0) return;
    if (isQresync(s)) return s.send({ type: 'VANISHED', earlier: false, uids: gone });
    if (descending) {
      for (let i = this.uids.length - 1; i >= 0; i--) if (uids.has(this.uids[i]!)) await s.send({ type: 'EXPUNGE', seq: i + 1 });
      return;
    }
    let before = 0; // expunged earlier in this loop: each number is the message's position at the time it is read
    for (let i = 0; i < this.uids.length; i++) if (uids.has(this.uids[i]!)) await s.send({ type: 'EXPUNGE', seq: i + 1 - before++ });
  }

  /** Take expunged messages out of the view; with `report`, tell the client (reportExpunged). */
  async remove(s: Session, uids: ReadonlySet<number>, report: boolean): Promise<void> {
    if (report) await this.reportExpunged(s, uids);
    const at: number[] = [];
    for (const u of uids) { const i = lowerBound(this.uids, u); if (this.uids[i] === u) at.push(i); }
    if (at.length > 0) {
      this.uids = without(this.uids, at);
      this.emailIds = without(this.emailIds, at);
      this.modseqs = without(this.modseqs, at);
      this.modseqsShared = false;
    }
    for (const u of uids) this.deleted.delete(u);
    for (const u of uids) this.shown.delete(u);
  }

  /**
   * Take in this session's own APPEND of one message without a catch-up (commands/append.ts): the import's
   * `oldState` (RFC 8621 §4.8) is this view's `emailState` and the UID map moved to `newState` with it (sync.ts
   * assignOwn), so the message is the only change. False, changing nothing, unless `uid` is above every UID of the
   * view (UIDs ascend). The caller then sends `* n EXISTS` (RFC 9051 §7.4.1).
   */
  appendOwn(uid: number, emailId: string, modseq: number, states: { oldState: string; newState: string }): boolean {
    if (this.emailState !== states.oldState || (this.uids.length > 0 && uid <= this.uids[this.uids.length - 1]!)) return false;
    this.uids = this.uids.concat(uid);
    this.emailIds = this.emailIds.concat(emailId);
    this.modseqs = this.modseqs.concat(modseq);
    this.modseqsShared = false;
    this.highestModseq = Math.max(this.highestModseq, modseq);
    this.uidNext = Math.max(this.uidNext, uid + 1);
    this.emailState = states.newState;
    return true;
  }

  /** Record the flags the client now knows for a message (see `shown`). */
  noteShown(uid: number, flags: readonly string[]): void {
    this.shown.set(uid, flagsKey(flags));
  }

  /** The flags last recorded as known to the client (see `shown`), as flagsKey() gives them; undefined if none. */
  shownKey(uid: number): string | undefined {
    return this.shown.get(uid);
  }

  /** Is the UID a message of the view (announced to the client and not reported gone)? */
  has(uid: number): boolean {
    return this.uids[lowerBound(this.uids, uid)] === uid;
  }

  /** RFC 7162 §3.1 the mod-sequence of a message of the view (1 when unknown). */
  modseqOf(uid: number): number {
    const i = lowerBound(this.uids, uid);
    return this.uids[i] === uid ? this.modseqs[i] ?? 1 : 1;
  }

  /** Record mod-sequences read from the store (uid -> modseq); UIDs not in the view are ignored. */
  setModseqs(fresh: ReadonlyMap<number, number>, highest?: number): void {
    if (this.modseqsShared) { this.modseqs = this.modseqs.slice(); this.modseqsShared = false; }
    if (fresh.size < 64) { // a STORE's few: binary searches instead of a walk of the whole view
      for (const [uid, m] of fresh) { const i = lowerBound(this.uids, uid); if (this.uids[i] === uid) this.modseqs[i] = m; }
    } else {
      this.uids.forEach((uid, i) => {
        const m = fresh.get(uid);
        if (m !== undefined) this.modseqs[i] = m;
      });
    }
    if (highest !== undefined) this.highestModseq = Math.max(this.highestModseq, highest);
  }

  /** IMAP flags of a message: its JMAP keywords, plus the gateway's `\Deleted`. */
  flagsOf(uid: number, keywords: string[]): string[] {
    const deleted = this.deleted.has(uid);
    if (keywords.length === 0) return deleted ? ['\\Deleted'] : []; // the common cases without the sorting below
    if (keywords.length === 1 && !deleted) return [keywordToFlag(keywords[0]!)];
    const flags = keywords.map(keywordToFlag);
    if (deleted) flags.push('\\Deleted');
    // A stable order whatever order the store keeps keywords in: system flags A-Z (as in RFC 9051's examples), then keywords.
    const system = flags.filter((f) => f.startsWith('\\')).sort();
    return [...system, ...flags.filter((f) => !f.startsWith('\\'))];
  }

  /**
   * The messages a sequence set names (RFC 9051 §9 sequence-set), ascending. By sequence number, a number above
   * EXISTS is an error (BAD); by UID, UIDs that do not exist are skipped (RFC 9051 §6.4.8 UID commands).
   */
  resolve(set: SequenceSet, byUid: boolean): MessageRef[] {
    const ref = (i: number): MessageRef => ({ seq: i + 1, uid: this.uids[i]!, emailId: this.emailIds[i]! });
    if (set === '$') { // RFC 5182 §2.1: `$` names the saved UIDs still in the view, in either context
      const saved = new Set(this.savedUids);
      return this.uids.flatMap((uid, i) => (saved.has(uid) ? [ref(i)] : []));
    }
    const n = this.uids.length;
    if (byUid) return matchUids(set, this.uids).map((uid) => ref(lowerBound(this.uids, uid)));
    if (n === 0 && set.length > 0) throw ImapError.bad('No messages: the mailbox is empty');
    for (const r of set) {
      const hi = Math.max(r.from === '*' ? n : r.from, r.to === '*' ? n : r.to);
      if (hi > n) throw ImapError.bad(`Message sequence number ${hi} does not exist (EXISTS is ${n})`);
    }
    return expandSequence(set, n).map((seq) => ref(seq - 1));
  }
}

const NONE: ReadonlySet<string> = new Set();

/** Is `uid` in the ascending array `uids` (binary search)? */
function contains(uids: readonly number[], uid: number): boolean {
  return uids[lowerBound(uids, uid)] === uid;
}

/** The elements of ascending `a` that ascending `b` lacks, ascending: one merge walk, O(a + b). */
function missingFrom(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]! < x) j++;
    if (b[j] !== x) out.push(x);
  }
  return out;
}

/** A copy of `a` without the elements at positions `at` (any order; a few splices, or one filter for many). */
function without<T>(a: readonly T[], at: number[]): T[] {
  if (at.length > 16) {
    const drop = new Set(at);
    return a.filter((_, i) => !drop.has(i));
  }
  const copy = a.slice();
  for (const i of [...at].sort((x, y) => y - x)) copy.splice(i, 1);
  return copy;
}

/**
 * Email id -> position in an email-id column. A view's column is usually the sync's shared one (sync.ts Columns),
 * so the map is built once per map version for every session; for a few ids a scan is cheaper than building it.
 */
const positionMaps = new WeakMap<readonly string[], Map<string, number>>();
function positionsOf(ids: readonly string[], lookups: number): (id: string) => number {
  const built = positionMaps.get(ids);
  if (built) return (id) => built.get(id) ?? -1;
  if (lookups <= 4) return (id) => ids.lastIndexOf(id);
  const map = new Map<string, number>();
  ids.forEach((id, i) => map.set(id, i));
  positionMaps.set(ids, map);
  return (id) => map.get(id) ?? -1;
}

/** A flag list as one comparable string: flags are a set (RFC 9051 §2.3.2), keywords case-insensitive. */
export function flagsKey(flags: readonly string[]): string {
  const written = flags.join(' ');
  const hit = keys.get(written);
  if (hit !== undefined) return hit;
  const key = flags.map((f) => f.toLowerCase()).sort().join(' ');
  if (keys.size < MAX_KEYS) keys.set(written, key);
  return key;
}

/**
 * Flag lists as written -> their keys. Combinations are few: views share one key string per combination, so
 * `shown` costs a map entry per message (about 4 MB for a FETCH 1:* FLAGS of 100k messages, less than the view's
 * own arrays), and a key costs one join and one lookup. Bounded; past it keys are computed each time.
 */
const keys = new Map<string, string>();
const MAX_KEYS = 10_000;
