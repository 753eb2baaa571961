/**
 * RFC 5256 §3 SORT criteria (and RFC 5957 DISPLAYFROM / DISPLAYTO) as comparable values of one message, and the
 * comparator: criteria in priority order, REVERSE per criterion, then the implicit sequence-number order. Strings
 * compare under i;unicode-casemap (RFC 5256 §7, casemap.ts); a missing header is the empty string, which collates
 * first (RFC 5256 §3).
 */
import type { SortCriterion } from '../../protocol/types.ts';
import { firstAddress } from './address.ts';
import { casemap, compareFolded } from './casemap.ts';
import { parseSentDate } from './dates.ts';
import { headerText } from './decode.ts';
import type { MessageData } from './evaluate.ts';
import { baseSubject } from './subject.ts';

/** Header fields (lower case) the sort criteria read. */
export function sortHeaders(criteria: SortCriterion[]): Set<string> {
  const out = new Set<string>();
  for (const c of criteria) {
    if (c.key === 'DATE') out.add('date');
    else if (c.key === 'SUBJECT') out.add('subject');
    else if (c.key === 'FROM' || c.key === 'DISPLAYFROM') out.add('from');
    else if (c.key === 'TO' || c.key === 'DISPLAYTO') out.add('to');
    else if (c.key === 'CC') out.add('cc');
  }
  return out;
}

function first(m: MessageData, name: string): string | undefined {
  return m.headers?.get(name)?.[0];
}

/** RFC 5256 §2.2 sent date in ms UTC; the internal date when the Date: header is missing or unparsable. */
export function sentTime(m: MessageData): number {
  const d = first(m, 'date');
  const parsed = d === undefined ? null : parseSentDate(d);
  return parsed ? parsed.utcMs : Date.parse(m.meta?.receivedAt ?? '') || 0;
}

/** RFC 5256 §2.1 base subject, casemapped. */
export function sortSubject(m: MessageData): string {
  return casemap(baseSubject(headerText(first(m, 'subject') ?? '')).base);
}

function mailboxOf(m: MessageData, field: string): string {
  const v = first(m, field);
  return v === undefined ? '' : casemap(firstAddress(v)?.mailbox ?? '');
}

/** RFC 5957 §3: the display name of the first address, else its addr-spec. */
function displayOf(m: MessageData, field: string): string {
  const v = first(m, field);
  const a = v === undefined ? null : firstAddress(v);
  return a ? casemap(a.name || a.addrSpec) : '';
}

function keyOf(m: MessageData, key: SortCriterion['key']): number | string {
  switch (key) {
    case 'ARRIVAL': return Date.parse(m.meta?.receivedAt ?? '') || 0;
    case 'DATE': return sentTime(m);
    case 'SIZE': return m.meta?.size ?? 0;
    case 'SUBJECT': return sortSubject(m);
    case 'FROM': return mailboxOf(m, 'from');
    case 'TO': return mailboxOf(m, 'to');
    case 'CC': return mailboxOf(m, 'cc');
    case 'DISPLAYFROM': return displayOf(m, 'from');
    case 'DISPLAYTO': return displayOf(m, 'to');
  }
}

/** The messages in SORT order (a new array). */
export function sortMessages(list: MessageData[], criteria: SortCriterion[]): MessageData[] {
  const keyed = list.map((m) => ({ m, keys: criteria.map((c) => keyOf(m, c.key)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < criteria.length; i++) {
      const x = a.keys[i]!;
      const y = b.keys[i]!;
      const d = typeof x === 'number' ? x - (y as number) : compareFolded(x, y as string);
      if (d !== 0) return criteria[i]!.reverse ? -Math.sign(d) : Math.sign(d);
    }
    return a.m.seq - b.m.seq;
  });
  return keyed.map((k) => k.m);
}
