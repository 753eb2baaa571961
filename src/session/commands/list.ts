/**
 * LIST (RFC 9051 §6.3.9) with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154 §5.1);
 * LSUB (RFC 3501 §6.3.9). One `Mailbox/get` per command (plus, for RETURN (STATUS ...), what STATUS costs per
 * listed mailbox).
 *
 * In JMAP every mailbox exists and a subscription belongs to a mailbox (`isSubscribed`), so `\NonExistent`
 * (RFC 5258 §3) never applies: no name is subscribed without existing, and every parent exists.
 */
import type { CommandOf, ListExtendedItem } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { DELIMITER, ancestorNames, listMatcher, specialUseOf, type ImapMailbox } from '../mailboxes.ts';
import { decodeName, encodeName, mailboxTree } from '../names.ts';
import type { Session } from '../session.ts';
import { inOtherUsers, listOtherUsers } from '../shared-accounts.ts';
import { checkStatusItems, mailboxStatus } from './status.ts';

export async function listCommand(s: Session, c: CommandOf<'LIST'>): Promise<HandlerResult> {
  const status = c.returnOptions.status;
  if (status) checkStatusItems(status);
  const reference = decodeName(s, c.reference);
  const patterns = c.patterns.map((p) => decodeName(s, p));
  for (const pattern of patterns.filter((p) => p === '')) {
    // RFC 9051 §6.3.9: an empty pattern asks for the delimiter and the root of the reference.
    const root = reference.includes(DELIMITER) ? reference.slice(0, reference.indexOf(DELIMITER) + 1) : '';
    await s.send({ type: 'LIST', attributes: ['\\Noselect'], delimiter: DELIMITER, mailbox: encodeName(s, root + pattern) });
  }
  const matchers = patterns.filter((p) => p !== '').map((p) => listMatcher(reference, p));
  if (matchers.length === 0) return;
  const matches = (name: string) => matchers.some((m) => m(name));
  const select = new Set(c.selectOptions);
  const bySubscription = select.has('SUBSCRIBED');
  const bySpecialUse = select.has('SPECIAL-USE');
  // RFC 5258 §3.1 / RFC 6154 §5.1: a selection option implies its return option.
  const showSubscribed = bySubscription || c.returnOptions.subscribed;
  /** The selection criteria of RFC 5258 §3.3 (all mailboxes when there is none), named as CHILDINFO reports them. */
  const criteria = [...(bySubscription ? ['SUBSCRIBED'] : []), ...(bySpecialUse ? ['SPECIAL-USE'] : [])];
  const meets = (m: ImapMailbox) => (!bySubscription || m.info.isSubscribed) && (!bySpecialUse || specialUseOf(m) !== undefined);
  const full = patterns.filter((p) => p !== '').map((p) => (reference === '' || p.startsWith(DELIMITER) ? p : reference + p));
  // RFC 2342 §5 other users (shared-accounts.ts), which hides a personal mailbox of the same name.
  const tree = [...(await mailboxTree(s)).filter((m) => !inOtherUsers(s, m.name)), ...await listOtherUsers(s, full)];
  const rows: Array<{ m: ImapMailbox; attributes: string[]; extended: ListExtendedItem[]; withStatus: boolean }> = [];
  for (const m of tree) {
    if (!matches(m.name)) continue;
    const selected = meets(m);
    // RFC 5258 §3.5: CHILDINFO when a descendant meets the criteria without matching the pattern (redundant ones,
    // whose matching descendants are listed anyway, are suppressed as §3.5 says servers SHOULD).
    const childInfo = select.has('RECURSIVEMATCH') && criteria.length > 0
      && tree.some((d) => d.name.startsWith(m.name + DELIMITER) && meets(d) && !matches(d.name));
    if (!selected && !childInfo) continue;
    const attributes = [...m.attributes];
    if (showSubscribed && m.info.isSubscribed) attributes.push('\\Subscribed');
    const extended: ListExtendedItem[] = childInfo ? [{ tag: 'CHILDINFO', value: criteria }] : [];
    // RFC 5819 §2: STATUS only for listed mailboxes that meet the criteria and can be selected.
    rows.push({ m, attributes, extended, withStatus: status !== undefined && selected && m.info.myRights.mayReadItems });
  }
  // The STATUS lookups run side by side (the JMAP client bounds the concurrency); one that fails is dropped, as
  // RFC 5819 §2 allows, rather than failing the whole LIST.
  const statuses = await Promise.all(rows.map((r) => (r.withStatus ? mailboxStatus(s, r.m, status!).catch(() => null) : null)));
  for (const [i, { m, attributes, extended }] of rows.entries()) {
    await s.send({ type: 'LIST', attributes, delimiter: DELIMITER, mailbox: encodeName(s, m.name), ...(extended.length ? { extended } : {}) });
    const attrs = statuses[i];
    if (attrs) await s.send({ type: 'STATUS', mailbox: encodeName(s, m.name), attributes: attrs });
  }
}

/**
 * LSUB (RFC 3501 §6.3.9): subscribed mailboxes that match; a parent that matches while its subscribed descendant
 * does not (`%`) is listed with `\Noselect`, which here means "not itself subscribed".
 */
export async function lsubCommand(s: Session, c: CommandOf<'LSUB'>): Promise<HandlerResult> {
  const reference = decodeName(s, c.reference);
  const pattern = decodeName(s, c.pattern);
  if (pattern === '') return;
  const matches = listMatcher(reference, pattern);
  const tree = await mailboxTree(s);
  const implied = new Set<string>();
  for (const m of tree) {
    if (!m.info.isSubscribed || matches(m.name)) continue;
    for (const a of ancestorNames(m.name)) if (matches(a)) implied.add(a);
  }
  for (const m of tree) {
    const attributes = m.info.isSubscribed && matches(m.name) ? [] : implied.has(m.name) ? ['\\Noselect'] : null;
    if (attributes) await s.send({ type: 'LSUB', attributes, delimiter: DELIMITER, mailbox: encodeName(s, m.name) });
  }
}
