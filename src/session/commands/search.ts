/**
 * SEARCH / UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4) with ESEARCH result options (RFC 4731 §3.1: MIN MAX ALL
 * COUNT, `RETURN ()` = ALL) and SEARCHRES (RFC 5182, RFC 9051 §6.4.4.1: SAVE, `$`). Without RETURN the answer is
 * the rev1 `* SEARCH` response; after ENABLE IMAP4rev2 it is ESEARCH with ALL (RFC 9051 §6.4.4: "If no result
 * option is specified ... ALL is assumed"; Appendix E item 4). After ENABLE UTF8=ACCEPT a CHARSET is BAD (RFC 6855
 * §3, checkUtf8Charset below). Evaluation: src/session/search/engine.ts. No EXPUNGE is sent while SEARCH runs
 * (RFC 9051 §7.5.1): the view is not refreshed here.
 */
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, SearchReturnOption } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { checkCharset } from '../search/charset.ts';
import { runSearch } from '../search/engine.ts';
import type { Session } from '../session.ts';
import { isRev2, isUtf8Accept } from '../versions.ts';
import { hasModseqKey, prepareModseqSearch, searchModseq } from '../condstore.ts';

export async function searchCommand(s: Session, c: CommandOf<'SEARCH'>): Promise<HandlerResult> {
  const view = s.selected!;
  const opts = c.returnOptions ?? (isRev2(s) ? [] : undefined);
  const save = opts?.includes('SAVE') ?? false;
  let found;
  try {
    checkUtf8Charset(s, c.charset, false);
    checkCharset(c.charset);
    if (hasModseqKey(c.criteria)) await prepareModseqSearch(s); // RFC 7162 §3.1.5
    found = await runSearch(s, view, c.criteria);
  } catch (err) {
    // RFC 9051 §6.4.4.1: a SEARCH with SAVE that fails with NO empties the search result variable (BAD keeps it).
    if (save && err instanceof ImapError && err.kind === 'NO') view.savedUids = [];
    throw err;
  }
  const numbers = found.map((m) => (c.uid ? m.uid : m.seq));
  // RFC 7162 §3.1.6: with MODSEQ in the criteria, the highest mod-sequence of the messages returned.
  const modseqOf = (ms: typeof found) => (hasModseqKey(c.criteria) ? searchModseq(view, ms.map((m) => m.uid)) : undefined);
  if (!opts) {
    const modseq = modseqOf(found);
    await s.send({ type: 'SEARCH', numbers, ...(modseq !== undefined ? { modseq } : {}) });
    return;
  }
  const want = (o: SearchReturnOption) => opts.includes(o);
  const reporting = opts.filter((o) => o !== 'SAVE');
  const all = reporting.length === 0 && !save; // RFC 4731 §3.1: RETURN () means ALL
  if (save) view.savedUids = savedResult(found.map((m) => m.uid), want);
  if (reporting.length === 0 && !all) return { text: 'SEARCH completed, result saved' };
  const n = numbers.length;
  const modseq = modseqOf(want('ALL') || all || want('COUNT') ? found : [found[0], found[n - 1]].filter((m) => m !== undefined));
  await s.send({
    type: 'ESEARCH', tag: c.tag, uid: c.uid,
    ...(want('MIN') && n > 0 ? { min: numbers[0]! } : {}),
    ...(want('MAX') && n > 0 ? { max: numbers[n - 1]! } : {}),
    ...((want('ALL') || all) && n > 0 ? { all: numbers } : {}),
    ...(want('COUNT') ? { count: n } : {}),
    ...(modseq !== undefined ? { modseq } : {}),
  });
}

/** RFC 9051 §6.4.4.1 Table 4: what `$` holds after SAVE combined with other result options. */
function savedResult(uids: number[], want: (o: SearchReturnOption) => boolean): number[] {
  if (want('ALL') || want('COUNT') || (!want('MIN') && !want('MAX'))) return uids;
  if (uids.length === 0) return [];
  const out = new Set<number>();
  if (want('MIN')) out.add(uids[0]!);
  if (want('MAX')) out.add(uids[uids.length - 1]!);
  return [...out];
}

/**
 * RFC 6855 §3 (with verified erratum 4029): once UTF8=ACCEPT is enabled every string is UTF-8, so a SEARCH that
 * names a CHARSET is BAD ("conflicting charset labels"), and SORT / THREAD, whose charset is mandatory, are BAD
 * for any charset but UTF-8.
 */
export function checkUtf8Charset(s: Session, charset: string | undefined, mandatory: boolean): void {
  if (!isUtf8Accept(s) || charset === undefined || (mandatory && charset.toUpperCase() === 'UTF-8')) return;
  throw ImapError.bad(`CHARSET ${charset} conflicts with UTF8=ACCEPT: strings are UTF-8 (RFC 6855 §3)`);
}
