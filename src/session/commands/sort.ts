/**
 * SORT / UID SORT (RFC 5256 §3; RFC 5957 DISPLAYFROM / DISPLAYTO): search, then order by the criteria with the
 * sequence number as the last tie-breaker. One extra `Email/get` of the header fields the criteria read (Date,
 * Subject, From, To, Cc) for the matches, unless cached; no message download.
 */
import type { CommandOf } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { checkCharset } from '../search/charset.ts';
import { loadHeaders, loadMeta, runSearch } from '../search/engine.ts';
import { sortHeaders, sortMessages } from '../search/sort-keys.ts';
import type { Session } from '../session.ts';
import { checkUtf8Charset } from './search.ts';

export async function sortCommand(s: Session, c: CommandOf<'SORT'>): Promise<HandlerResult> {
  checkUtf8Charset(s, c.charset, true);
  checkCharset(c.charset);
  const view = s.selected!;
  const found = await loadMeta(s, await runSearch(s, view, c.criteria));
  const names = sortHeaders(c.sortCriteria);
  if (names.size > 0) await loadHeaders(s, view, found, names);
  const sorted = sortMessages(found, c.sortCriteria);
  await s.send({ type: 'SORT', numbers: sorted.map((m) => (c.uid ? m.uid : m.seq)) });
}
