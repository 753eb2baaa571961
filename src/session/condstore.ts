/**
 * CONDSTORE state of a session (RFC 7162 §3.1): whether the client announced itself CONDSTORE-aware, and the
 * one place that turns it on. The mod-sequences themselves live in the UID store (src/uidmap/store.ts,
 * DESIGN.md rule 5); the view keeps the selected mailbox's (view.ts).
 */
import type { Session } from './session.ts';
import type { SearchKey } from '../protocol/types.ts';
import { syncMailbox } from './sync.ts';

/** The spelling of CONDSTORE in `Session.enabled` (as ENABLE's ENABLED response writes it). */
export const CONDSTORE = 'CONDSTORE';

/** The spelling of QRESYNC in `Session.enabled` (RFC 7162 §3.2.3: only ENABLE turns it on). */
export const QRESYNC = 'QRESYNC';

/** RFC 7162 §3.1: a CONDSTORE enabling command was issued in this session. */
export function isCondstore(s: { readonly enabled: ReadonlySet<string> }): boolean {
  return s.enabled.has(CONDSTORE);
}

/** RFC 7162 §3.2.3: `ENABLE QRESYNC` succeeded in this session (VANISHED replaces EXPUNGE from then on, §3.2.10). */
export function isQresync(s: { readonly enabled: ReadonlySet<string> }): boolean {
  return s.enabled.has(QRESYNC);
}

/**
 * A CONDSTORE enabling command (RFC 7162 §3.1: SELECT/EXAMINE (CONDSTORE), STATUS (HIGHESTMODSEQ), FETCH/SEARCH
 * MODSEQ, FETCH CHANGEDSINCE, STORE UNCHANGEDSINCE, ENABLE CONDSTORE). The first one with a mailbox selected
 * MUST make the server return HIGHESTMODSEQ for it: sent here as `* OK [HIGHESTMODSEQ n]`. Returns true when this
 * call turned it on.
 */
export async function enableCondstore(s: Session): Promise<boolean> {
  if (isCondstore(s)) return false;
  s.enabled.add(CONDSTORE);
  const view = s.selected;
  if (view) {
    const fresh = await freshModseqs(s);
    await s.send({ type: 'status', status: 'OK', code: { name: 'HIGHESTMODSEQ', data: String(fresh.highestModseq) }, text: 'Highest' });
  }
  return true;
}

/**
 * The selected mailbox's current mod-sequences, read through a sync of the UID map (so keyword changes made
 * directly in JMAP are counted, RFC 7162 §3.1 "external mechanism"), recorded in the view without changing its
 * message numbers (no EXPUNGE/EXISTS: allowed during FETCH/STORE/SEARCH, RFC 9051 §7.5.1).
 * Cost: one `Email/changes`, plus one `Email/get` of the changed ids when anything changed.
 */
export async function freshModseqs(s: Session): Promise<{ highestModseq: number; emailState: string }> {
  const view = s.selected!;
  const account = s.account!;
  const synced = await syncMailbox(account.backend, s.config.uidStore, account.accountKey, view.mailboxId);
  view.setModseqs(new Map(synced.entries.map((e, i) => [e.uid, synced.modseqs[i]!] as const)), synced.highestModseq);
  await guardHighestModseq(s);
  return { highestModseq: synced.highestModseq, emailState: synced.emailState };
}

/**
 * RFC 7162 §3.2 (and the §6 example): MODSEQ data sent while expunges with lower mod-sequences are not yet
 * reported (they may be only at NOOP/IDLE, RFC 9051 §7.5.1) must come with a HIGHESTMODSEQ below those expunges,
 * or a client that computes its HIGHESTMODSEQ from MODSEQ data and then loses the connection would never learn of
 * them. The view's `reportedModseq` is such a value: every expunge the view has not reported happened after it.
 * Only after ENABLE QRESYNC (a CONDSTORE-only client does not learn of expunges from mod-sequences). One UID-store
 * read, only when the mailbox moved past what the view reported.
 */
export async function guardHighestModseq(s: Session): Promise<void> {
  const view = s.selected;
  if (!view || !isQresync(s) || view.highestModseq <= view.reportedModseq) return;
  const gone = await s.config.uidStore.vanished(s.account!.accountKey, view.mailboxId, view.reportedModseq);
  if (!gone.some((uid) => view.has(uid))) return;
  await s.send({ type: 'status', status: 'OK', code: { name: 'HIGHESTMODSEQ', data: String(view.reportedModseq) }, text: 'Expunges not yet reported' });
}

/** RFC 7162 §3.1.5: whether a SEARCH key tree uses the MODSEQ criterion (which makes it an enabling command). */
export function hasModseqKey(keys: readonly SearchKey[]): boolean {
  return keys.some((k) => k.type === 'MODSEQ' || (k.type === 'NOT' && hasModseqKey([k.key]))
    || (k.type === 'OR' && hasModseqKey([k.left, k.right])) || (k.type === 'AND' && hasModseqKey(k.keys)));
}

/**
 * Before a SEARCH with MODSEQ: enable CONDSTORE (RFC 7162 §3.1) and read fresh mod-sequences. After it, the
 * `(MODSEQ n)` part of the result: the highest mod-sequence of the messages found (§3.1.6), none when empty.
 */
export async function prepareModseqSearch(s: Session): Promise<void> {
  if (!(await enableCondstore(s))) await freshModseqs(s);
}

export function searchModseq(view: { modseqOf(uid: number): number }, uids: readonly number[]): number | undefined {
  return uids.length === 0 ? undefined : Math.max(...uids.map((u) => view.modseqOf(u)));
}
