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

/** RFC 7162 §3.1: a CONDSTORE enabling command was issued in this session. */
export function isCondstore(s: { readonly enabled: ReadonlySet<string> }): boolean {
  return s.enabled.has(CONDSTORE);
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
  return { highestModseq: synced.highestModseq, emailState: synced.emailState };
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
