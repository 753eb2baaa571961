/**
 * STATUS (RFC 9051 §6.3.11) and the STATUS part of LIST-STATUS (RFC 5819).
 *
 * Counts come from the UID map, the truth the client sees (DESIGN.md rules 1-4): the mailbox is synced first
 * (sync.ts), so UIDNEXT and UIDVALIDITY agree with a SELECT that follows and MESSAGES is the number of live UIDs.
 * UNSEEN is the live UIDs whose email lacks `$seen` (JMAP `unreadEmails` also leaves out drafts, RFC 8621 §2): a
 * counting `Email/query` (`calculateTotal`, no ids; MailBackend.unseenCount) run AFTER the sync, exact when it ran
 * at the very Email state the synced map reflects: the sync's reads (`Email/changes` to state S, then `Email/get`
 * of the changed ids, or a listing from S) happened at or after S and before the count, which ran at S, so they all
 * saw S. Otherwise (a change raced in) the unseen ids are listed and intersected with the live UIDs.
 *
 * Cost of a warm STATUS (the account's mailbox tree kept, ../tree-cache.ts): ONE request, `Mailbox/changes` +
 * `Mailbox/get` of the mailbox + `Email/changes` since its map's state, made during the command, so the answer is
 * the status as it is now (RFC 9051 §6.3.11). More only when something changed: `Email/get` of the changed emails
 * (the sync), one request for UNSEEN when the map moved since the last exact count (not when the changes provably
 * left the mailbox alone: `carried`), a `Mailbox/get` when the tree changed; SIZE (RFC 8438) reads sizes the message cache lacks. LIST-STATUS (RFC 5819): the mailboxes of one LIST
 * share their `Email/changes` (../changes-batch.ts).
 */
import type { MailBackend } from '../../backend/backend.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, StatusAttribute, StatusItem } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { ImapMailbox } from '../mailboxes.ts';
import { encodeName, resolveSelected } from '../names.ts';
import { accountOf } from '../shared-accounts.ts';
import type { Session } from '../session.ts';
import { syncMailbox, type Prefetch, type SyncedMailbox } from '../sync.ts';
import { batchedPrefetch } from '../changes-batch.ts';
import { appendLimit } from '../capabilities.ts';
import { enableCondstore } from '../condstore.ts';
import { MemoryUnseenCountStore, type UnseenCount, type UnseenCountStore } from '../../cache/keyword-store.ts';

/** Items that are answered here; the rest need an extension this server does not offer, so they are BAD. */
const SERVED: ReadonlySet<StatusItem> = new Set<StatusItem>([
  'MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'MAILBOXID', 'APPENDLIMIT', 'DELETED-STORAGE',
  'HIGHESTMODSEQ',
]);
/** Items that need the UID map synced. */
const FROM_MAP: ReadonlySet<StatusItem> = new Set<StatusItem>(['MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'DELETED-STORAGE', 'HIGHESTMODSEQ']);

/**
 * The last exact UNSEEN count per (JMAP server, account, mailbox), with the Email state it is the count at: the same
 * state means the same emails with the same keywords (RFC 8620 §5.1), so a STATUS of a mailbox unchanged since costs
 * no count request (and the store no query). In the gateway's cache file when it has one (`messageCache.
 * unseenCounts`, ../../cache/keyword-store.ts: a count at a state stays true, so it is kept across restarts), else
 * in memory. Bounded: the oldest entries go first.
 */
const unseenCounts = new MemoryUnseenCountStore(10_000);

/**
 * The map as it was when this process remembered each count (UidStore MailboxUidState numbers), for `carried`.
 * In memory only: after a restart a count is reused at its own state only. Bounded like `unseenCounts`.
 */
interface CountedMap { count: number; emailState: string; highestModseq: number; uidNext: number; uidValidity: number }
const countedMaps = new Map<string, CountedMap>();

function noteCounted(key: string, count: number, map: SyncedMailbox): void {
  countedMaps.delete(key);
  const { emailState, highestModseq, uidNext, uidValidity } = map;
  countedMaps.set(key, { count, emailState, highestModseq, uidNext, uidValidity });
  if (countedMaps.size > 10_000) countedMaps.delete(countedMaps.keys().next().value!);
}

/**
 * The remembered count `known` (at Email state Sc) still holds for the map just synced to S', without a count
 * request: a STATUS sweep after a change elsewhere in the account. Provable from what this STATUS read:
 * - the map did not change between the count and the sync's commit: this process noted the map's HIGHESTMODSEQ,
 *   UIDNEXT, UIDVALIDITY at the count, the state read before this STATUS's request (`pre.state`) still has them at
 *   Sc, and so does the synced map (every UID-store write that changes an entry takes a new mod-sequence);
 * - `pre.changes` is ALL of the account's Email changes from Sc to S' (RFC 8620 §5.2, no more pages), and none of
 *   them is a live entry, and none of the changed emails is in the mailbox as the sync read it (`map.changed`).
 * So no email of the map changed (keywords included) from Sc to S', and no email came in: the unseen among the
 * map's entries are the K counted at Sc. (An own EXPUNGE after the count moves the mod-sequence: no carry.)
 */
function carried(key: string, known: UnseenCount, map: SyncedMailbox, pre: Prefetch | undefined, mailboxId: string): boolean {
  const noted = countedMaps.get(key);
  if (!pre || !noted || map.mode !== 'incremental' || noted.emailState !== known.emailState || noted.count !== known.count) return false;
  const { state, changes } = pre;
  if (changes.hasMoreChanges || changes.oldState !== known.emailState || state.syncState !== known.emailState) return false;
  if (map.emailState !== changes.newState) return false;
  const same = (m: { highestModseq: number; uidNext: number; uidValidity: number }) =>
    m.highestModseq === noted.highestModseq && m.uidNext === noted.uidNext && m.uidValidity === noted.uidValidity;
  if (!same(state) || !same(map)) return false;
  const ids = [...changes.created, ...changes.updated];
  if (ids.length + changes.destroyed.length === 0) return true;
  const live = new Set(map.columns.emailIds);
  const read = new Map(map.changed.map((m) => [m.id, m] as const));
  return changes.destroyed.every((id) => !live.has(id))
    && ids.every((id) => !live.has(id) && read.get(id)?.mailboxIds.includes(mailboxId) === false);
}

/**
 * The count run after the sync (see the header), or the remembered one when the map is still at its state or
 * provably unchanged since (`carried`).
 */
async function unseenAt(backend: MailBackend, accountKey: string, mailboxId: string, map: SyncedMailbox, pre: Prefetch | undefined,
  store: UnseenCountStore = unseenCounts): Promise<UnseenCount | null> {
  const key = JSON.stringify([backend.serverInfo().sessionUrl, accountKey, mailboxId]);
  const known = await store.get(key).catch(() => undefined);
  if (known?.emailState === map.emailState) return known;
  const counted = known && carried(key, known, map, pre, mailboxId) ? { count: known.count, emailState: map.emailState }
    : await backend.unseenCount(mailboxId);
  const exact = counted?.emailState === map.emailState ? counted : null;
  // Only exact counts are kept; a count that could not be stored is only not remembered.
  await store.set(key, exact).catch(() => undefined);
  if (exact) noteCounted(key, exact.count, map);
  else countedMaps.delete(key);
  return counted;
}

/** BAD for items of extensions not advertised. */
export function checkStatusItems(items: StatusItem[]): void {
  const unknown = items.find((i) => !SERVED.has(i));
  if (unknown) throw ImapError.bad(`STATUS item ${unknown} is not supported by this server`);
}

export async function statusCommand(s: Session, c: CommandOf<'STATUS'>): Promise<HandlerResult> {
  checkStatusItems(c.items);
  if (c.items.includes('HIGHESTMODSEQ')) await enableCondstore(s); // RFC 7162 §3.1: a CONDSTORE enabling command
  // Warm: one request names the mailbox and starts its sync (tree-cache.ts), as for SELECT.
  const { mailbox, prefetch } = await resolveSelected(s, c.mailbox);
  if (!mailbox.info.myRights.mayReadItems) throw ImapError.no(`Permission denied to read ${mailbox.name}`, 'NOPERM');
  const attributes = await mailboxStatus(s, mailbox, c.items, prefetch);
  await s.send({ type: 'STATUS', mailbox: encodeName(s, mailbox.name), attributes });
}

/**
 * The STATUS attributes of one mailbox, in the order asked (duplicates answered once). `prefetch`: the sync's first
 * `Email/changes` page, when the caller got it; else the mailboxes asked together (LIST-STATUS) share one
 * (../changes-batch.ts).
 */
export async function mailboxStatus(s: Session, mailbox: ImapMailbox, items: StatusItem[], prefetch?: Prefetch): Promise<StatusAttribute[]> {
  const ctx = accountOf(s, mailbox); // own or shared account (shared-accounts.ts)
  const { backend, accountKey } = ctx;
  const store = s.config.uidStore;
  const id = mailbox.info.id;
  const wanted = [...new Set(items)];
  const synced = wanted.some((i) => FROM_MAP.has(i));
  const first = synced ? prefetch ?? batchedPrefetch(s, ctx, id) : undefined; // asked before any await: one batch
  const pre = await first;
  const map = synced ? await syncMailbox(backend, store, accountKey, id, pre) : null;
  const counted = wanted.includes('UNSEEN') ? await unseenAt(backend, accountKey, id, map!, pre, s.config.messageCache?.unseenCounts) : null;
  const live = map?.entries ?? [];
  /** Sizes are immutable (RFC 8621 §4.1.1): the message cache's, `Email/get` only for the emails it lacks. */
  const sizeOf = async (ids: string[]): Promise<number> => {
    const cached = s.config.messageCache ? await s.config.messageCache.get(accountKey, ids) : new Map<string, { size: number }>();
    const rest = cached.size === ids.length ? [] : ids.filter((i) => !cached.has(i));
    let sum = 0;
    for (const m of cached.values()) sum += m.size;
    for (const m of rest.length > 0 ? await backend.getEmails(rest) : []) sum += m.size;
    return sum;
  };
  const value = async (item: StatusItem): Promise<number> => {
    switch (item) {
      case 'MESSAGES': return live.length;
      case 'UIDNEXT': return map!.uidNext;
      case 'UIDVALIDITY': return map!.uidValidity;
      case 'RECENT': return 0; // \Recent is not kept (DESIGN.md rule 6)
      case 'UNSEEN': {
        if (counted && counted.emailState === map!.emailState) return counted.count; // same state: same set of emails
        const ids = new Set(await backend.unseenEmailIds(id));
        return live.filter((e) => ids.has(e.emailId)).length;
      }
      case 'DELETED': {
        const deleted = await store.getDeleted(accountKey, id);
        return live.filter((e) => deleted.has(e.uid)).length;
      }
      case 'SIZE': // RFC 8438 §2: the sum of RFC822.SIZE (JMAP `size`) of the messages
        return sizeOf(live.map((e) => e.emailId));
      case 'DELETED-STORAGE': { // RFC 9208 §4.1.4: what EXPUNGE would free, as the sum of RFC822.SIZE of \Deleted
        const deleted = await store.getDeleted(accountKey, id);
        const ids = live.filter((e) => deleted.has(e.uid)).map((e) => e.emailId);
        return sizeOf(ids);
      }
      case 'HIGHESTMODSEQ': return map!.highestModseq; // RFC 7162 §3.1.2 (the UID store's counter, DESIGN.md rule 5)
      case 'APPENDLIMIT': return appendLimit(s); // RFC 7889 §3.2: the same for every mailbox
      default: throw ImapError.bad(`STATUS item ${item} is not supported by this server`);
    }
  };
  const out: StatusAttribute[] = [];
  for (const item of wanted) {
    if (item === 'MAILBOXID') out.push({ item, value: id }); // RFC 8474 §4
    else out.push({ item: item as Exclude<StatusItem, 'MAILBOXID'>, value: await value(item) });
  }
  return out;
}
