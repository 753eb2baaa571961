/**
 * STATUS (RFC 9051 §6.3.11) and the STATUS part of LIST-STATUS (RFC 5819).
 *
 * Counts come from the UID map, the truth the client sees (DESIGN.md rules 1-4): the mailbox is synced first
 * (sync.ts), so UIDNEXT and UIDVALIDITY agree with a SELECT that follows and MESSAGES is the number of live UIDs.
 * UNSEEN is the live UIDs whose email lacks `$seen` (JMAP `unreadEmails` also leaves out drafts, RFC 8621 §2): a
 * counting `Email/query` (`calculateTotal`, no ids; MailBackend.unseenCount) run AFTER the sync, exact when it ran
 * at the very Email state the synced map reflects: the sync's reads (`Email/changes` to state S, then `Email/get`
 * of the changed ids, or a listing from S) happened at or after S and before the count, which ran at S, so they all
 * saw S. Otherwise (a change raced in) the unseen ids are listed and intersected with the live UIDs. Cost of a warm
 * STATUS: one `Email/changes` (the incremental sync) plus, when the mailbox changed since the last exact count, one
 * request for UNSEEN, whatever the mailbox size; plus `Email/get` of sizes for SIZE (RFC 8438).
 */
import type { MailBackend } from '../../backend/backend.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, StatusAttribute, StatusItem } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { ImapMailbox } from '../mailboxes.ts';
import { encodeName, resolveMailbox } from '../names.ts';
import { accountOf } from '../shared-accounts.ts';
import type { Session } from '../session.ts';
import { syncMailbox } from '../sync.ts';
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

/** The count run after the sync (see the header), or the remembered one when the map is still at its state. */
async function unseenAt(backend: MailBackend, accountKey: string, mailboxId: string, mapState: string, store: UnseenCountStore = unseenCounts): Promise<UnseenCount | null> {
  const key = JSON.stringify([backend.serverInfo().sessionUrl, accountKey, mailboxId]);
  const known = await store.get(key).catch(() => undefined);
  if (known?.emailState === mapState) return known;
  const counted = await backend.unseenCount(mailboxId);
  // Only exact counts are kept; a count that could not be stored is only not remembered.
  await store.set(key, counted?.emailState === mapState ? counted : null).catch(() => undefined);
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
  const mailbox = await resolveMailbox(s, c.mailbox);
  if (!mailbox.info.myRights.mayReadItems) throw ImapError.no(`Permission denied to read ${mailbox.name}`, 'NOPERM');
  const attributes = await mailboxStatus(s, mailbox, c.items);
  await s.send({ type: 'STATUS', mailbox: encodeName(s, mailbox.name), attributes });
}

/** The STATUS attributes of one mailbox, in the order asked (duplicates answered once). */
export async function mailboxStatus(s: Session, mailbox: ImapMailbox, items: StatusItem[]): Promise<StatusAttribute[]> {
  const { backend, accountKey } = accountOf(s, mailbox); // own or shared account (shared-accounts.ts)
  const store = s.config.uidStore;
  const id = mailbox.info.id;
  const wanted = [...new Set(items)];
  const synced = wanted.some((i) => FROM_MAP.has(i));
  const map = synced ? await syncMailbox(backend, store, accountKey, id) : null;
  const counted = wanted.includes('UNSEEN') ? await unseenAt(backend, accountKey, id, map!.emailState, s.config.messageCache?.unseenCounts) : null;
  const live = map?.entries ?? [];
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
        return (await backend.getEmails(live.map((e) => e.emailId))).reduce((sum, m) => sum + m.size, 0);
      case 'DELETED-STORAGE': { // RFC 9208 §4.1.4: what EXPUNGE would free, as the sum of RFC822.SIZE of \Deleted
        const deleted = await store.getDeleted(accountKey, id);
        const ids = live.filter((e) => deleted.has(e.uid)).map((e) => e.emailId);
        return (await backend.getEmails(ids)).reduce((sum, m) => sum + m.size, 0);
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
