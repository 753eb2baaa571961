/**
 * QRESYNC (RFC 7162 §3.2): quick resynchronization of a client's cache on SELECT/EXAMINE and UID FETCH.
 *
 * The UID store keeps every expunged UID with the mod-sequence of its expunge for as long as the mailbox lives
 * (UidStore.vanished; never trimmed), so `VANISHED (EARLIER)` is exact for any mod-sequence a client can hold: the
 * conservative answer of §3.2.6 ("a mod-sequence smaller than <minmodseq>") never arises. A mailbox that was
 * replaced has a new UIDVALIDITY, for which the QRESYNC parameters are ignored (§3.2.5). Sequence match data
 * narrow VANISHED (EARLIER) as §3.2.5.2 says; Dovecot 2.3, which also remembers every expunge, ignores them and
 * reports all (test/differential/qresync-dovecot.test.ts lists that as the one allowed difference).
 *
 * The session side: ENABLE QRESYNC (commands/any-state.ts), VANISHED instead of EXPUNGE (MailboxView.reportExpunged),
 * the HIGHESTMODSEQ guard for delayed expunges (condstore.ts), and what is here.
 */
import { ImapError } from '../protocol/errors.ts';
import { lowerBound, matchUids } from '../protocol/sequence.ts';
import type { QresyncParams, ResponseCode, SeqRange, SequenceSet } from '../protocol/types.ts';
import { isQresync } from './condstore.ts';
import type { Session } from './session.ts';
import type { MailboxView } from './view.ts';

/** Metadata reads per `Email/get` batch for the FETCH responses of a resync (as fetch.ts's metadata batches). */
const BATCH = 1000;

/**
 * Checks made before the mailbox is opened (§3.2.5: a BAD leaves the mailbox unselected): QRESYNC needs ENABLE
 * QRESYNC first (§3.2.3); known UIDs and sequence match data are concrete numbers (§7 `known-uids`: `*` is not
 * allowed; nor is `$`, there is no saved result to refer to), and the match data pairs each message number with
 * one UID, both ascending (§3.2.5.2).
 */
export function checkQresyncParams(s: Session, p: QresyncParams): void {
  if (!isQresync(s)) throw ImapError.bad('QRESYNC parameter without ENABLE QRESYNC (RFC 7162 §3.2.5)');
  if (p.knownUids && !concrete(p.knownUids)) throw ImapError.bad('QRESYNC known UIDs must not contain * (RFC 7162 §7)');
  if (!p.seqMatch) return;
  const seqs = concrete(p.seqMatch.seqs);
  const uids = concrete(p.seqMatch.uids);
  if (!seqs || !uids) throw ImapError.bad('QRESYNC sequence match data must list concrete numbers (RFC 7162 §3.2.5.2)');
  if (count(seqs) !== count(uids)) throw ImapError.bad('QRESYNC sequence match data must pair each message number with one UID');
  if (!ascending(seqs) || !ascending(uids)) throw ImapError.bad('QRESYNC sequence match data must be in ascending order');
}

/**
 * §3.2.5.1, after all the responses of a plain SELECT and before the tagged OK, when the client's UIDVALIDITY is
 * the mailbox's: `* VANISHED (EARLIER)` of the known UIDs expunged since its mod-sequence (narrowed by the
 * sequence match data, §3.2.5.2), then `* n FETCH (UID FLAGS MODSEQ)` of the known messages changed since. Known
 * UIDs default to `1:<UIDNEXT-1>`. Cost: one UID-store read and one `Email/get` per 1,000 changed messages.
 */
export async function resync(s: Session, view: MailboxView, p: QresyncParams): Promise<void> {
  if (p.uidValidity !== view.uidValidity) return; // §3.2.5: ignore the rest, as if nothing changed
  const known = p.knownUids ? concrete(p.knownUids)! : view.uidNext > 1 ? [{ from: 1, to: view.uidNext - 1 }] : [];
  const floor = p.seqMatch ? matchedFloor(view, concrete(p.seqMatch.seqs)!, concrete(p.seqMatch.uids)!) : 0;
  await sendVanishedEarlier(s, view, known, p.modseq, floor);
  const changed = matchUids(known, view.uids).filter((uid) => view.modseqOf(uid) > p.modseq);
  for (let i = 0; i < changed.length; i += BATCH) {
    const part = changed.slice(i, i + BATCH);
    const ids = part.map((uid) => view.emailIds[lowerBound(view.uids, uid)]!);
    const metas = new Map((await s.account!.backend.getEmails(ids)).map((m) => [m.id, m] as const));
    for (const [k, uid] of part.entries()) {
      const meta = metas.get(ids[k]!);
      if (!meta) continue; // gone from the store meanwhile: reported at the next NOOP
      const seq = lowerBound(view.uids, uid) + 1;
      const flags = view.flagsOf(uid, meta.keywords);
      view.noteShown(uid, flags);
      await s.send({ type: 'FETCH', seq, items: [{ type: 'UID', uid }, { type: 'FLAGS', flags }, { type: 'MODSEQ', modseq: view.modseqOf(uid) }] });
    }
  }
}

/**
 * §3.2.6 / §3.2.10.1: `* VANISHED (EARLIER)` of the UIDs of `set` expunged with a mod-sequence above `since`
 * (and above `floor`), if any. `*` in the set is the highest UID ever issued (UIDNEXT - 1), so the last messages
 * expunged count too. Sent before any FETCH response of the command. A UID still in the view (expunged by another
 * session after this one last caught up) is left to the plain VANISHED of the next NOOP/IDLE (§3.2.10.2), which
 * also takes it out of the message count; the HIGHESTMODSEQ guard (condstore.ts) keeps the client's mod-sequence
 * below that expunge meanwhile.
 */
export async function sendVanishedEarlier(s: Session, view: MailboxView, set: SequenceSet, since: number, floor = 0): Promise<void> {
  const ranges = set === '$' ? view.savedUids.map((u) => ({ from: u, to: u })) : starAt(set, view.uidNext - 1);
  const expunged = await s.config.uidStore.vanished(s.account!.accountKey, view.mailboxId, since);
  const uids = matchUids(ranges, expunged).filter((u) => u > floor && !view.has(u));
  if (uids.length > 0) await s.send({ type: 'VANISHED', earlier: true, uids });
}

/**
 * The tagged OK code of an EXPUNGE / UID EXPUNGE / MOVE that removed messages under QRESYNC (RFC 7162 §3.2.7,
 * §3.2.9, RFC 6851 §4.4): `[HIGHESTMODSEQ n]`. The view first catches up (EXPUNGE/VANISHED may be sent during
 * these commands), so n covers nothing the client has not been told. One `Email/changes` (plus its sync).
 */
export async function expungedHighest(s: Session, removed: number): Promise<ResponseCode | undefined> {
  const view = s.selected;
  if (!view || removed === 0 || !isQresync(s)) return undefined;
  await view.refresh(s);
  return { name: 'HIGHESTMODSEQ', data: String(view.reportedModseq) };
}

/**
 * After a catch-up during IDLE that reported expunges under QRESYNC: `* OK [HIGHESTMODSEQ n]`, untagged since IDLE
 * ends with a plain tagged OK (Dovecot 2.3 sends the same line; RFC 7162 §6: the client takes the value at the
 * next tagged response). VANISHED carries no mod-sequence, so without it the client's HIGHESTMODSEQ stays below
 * the expunges and its next SELECT (QRESYNC) learns them again. NOOP puts the code in its tagged OK (any-state.ts).
 */
export async function reportHighestAfterExpunges(s: Session, gone: number): Promise<void> {
  const view = s.selected;
  if (!view || gone === 0 || !isQresync(s)) return;
  await s.send({ type: 'status', status: 'OK', code: { name: 'HIGHESTMODSEQ', data: String(view.reportedModseq) }, text: 'Highest' });
}

/**
 * §3.2.5.2: walk the (message number, UID) pairs in order while they match the mailbox; the UID of the last
 * matching pair is the floor (no UID at or below it is reported vanished). The first mismatch ends the walk.
 */
function matchedFloor(view: MailboxView, seqs: SeqRange[], uids: SeqRange[]): number {
  const a = numbers(seqs);
  const b = numbers(uids);
  let floor = 0;
  for (let x = a.next(), y = b.next(); !x.done && !y.done; x = a.next(), y = b.next()) {
    if (view.uids[x.value - 1] !== y.value) break;
    floor = y.value;
  }
  return floor;
}

function* numbers(ranges: SeqRange[]): Generator<number> {
  for (const r of ranges) for (let n = r.from as number; n <= (r.to as number); n++) yield n;
}

/** The set with `*` replaced by `max` (ranges kept as written). */
function starAt(set: SeqRange[], max: number): SeqRange[] {
  return set.map((r) => ({ from: r.from === '*' ? max : r.from, to: r.to === '*' ? max : r.to }));
}

/** The ranges as low:high, or null when `$` or `*` appears. */
function concrete(set: SequenceSet): SeqRange[] | null {
  if (set === '$' || set.some((r) => r.from === '*' || r.to === '*')) return null;
  return set.map((r) => ({ from: Math.min(r.from as number, r.to as number), to: Math.max(r.from as number, r.to as number) }));
}

function count(set: SeqRange[]): number {
  return set.reduce((n, r) => n + (r.to as number) - (r.from as number) + 1, 0);
}

function ascending(set: SeqRange[]): boolean {
  return set.every((r, i) => i === 0 || (r.from as number) > (set[i - 1]!.to as number));
}
