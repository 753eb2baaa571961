/**
 * THREAD / UID THREAD (RFC 5256 §3): ORDEREDSUBJECT and REFERENCES over the searched messages. One extra
 * `Email/get` of Subject, Date, Message-ID, In-Reply-To and References for the matches, unless cached.
 */
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import { checkCharset } from '../search/charset.ts';
import { loadHeaders, loadMeta, runSearch } from '../search/engine.ts';
import { orderedSubject, references } from '../search/threading.ts';
import type { MessageData } from '../search/evaluate.ts';
import type { Session } from '../session.ts';
import { checkUtf8Charset } from './search.ts';

/** The algorithms offered (advertised as `THREAD=<name>`) and the header fields each reads. */
export const THREAD_ALGORITHMS: Record<string, string[]> = {
  ORDEREDSUBJECT: ['subject', 'date'],
  REFERENCES: ['subject', 'date', 'message-id', 'in-reply-to', 'references'],
};

export async function threadCommand(s: Session, c: CommandOf<'THREAD'>): Promise<HandlerResult> {
  const fields = THREAD_ALGORITHMS[c.algorithm];
  if (!fields) throw ImapError.bad(`Unknown threading algorithm ${c.algorithm}`);
  checkUtf8Charset(s, c.charset, true);
  checkCharset(c.charset);
  const view = s.selected!;
  const found = await loadMeta(s, await runSearch(s, view, c.criteria));
  await loadHeaders(s, view, found, new Set(fields));
  const num = (m: MessageData) => (c.uid ? m.uid : m.seq);
  const threads = c.algorithm === 'REFERENCES' ? references(found, num) : orderedSubject(found, num);
  await s.send({ type: 'THREAD', threads });
}
