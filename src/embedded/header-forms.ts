/**
 * Header field parsed forms of RFC 8621 §4.1.2 and the `header:{name}[:as{form}][:all]` properties of §4.1.3.
 */
import { addressParser } from 'postal-mime';
import { type RawHeader, textForm, unfold } from './mime.ts';

/** RFC 8621 §4.1.2.3 EmailAddress. */
export interface EmailAddress { name: string | null; email: string }
/** RFC 8621 §4.1.2.4 EmailAddressGroup. */
export interface EmailAddressGroup { name: string | null; addresses: EmailAddress[] }

export type HeaderForm = 'Raw' | 'Text' | 'Addresses' | 'GroupedAddresses' | 'MessageIds' | 'Date' | 'URLs';
/** A parsed `header:` property name (RFC 8621 §4.1.3). */
export interface HeaderProperty { name: string; form: HeaderForm; all: boolean }

const FORMS = new Set<HeaderForm>(['Raw', 'Text', 'Addresses', 'GroupedAddresses', 'MessageIds', 'Date', 'URLs']);

/** Parses `header:Name[:asForm][:all]`; null when the property is not a valid header property. */
export function parseHeaderProperty(prop: string): HeaderProperty | null {
  const m = /^header:([\x21-\x39\x3b-\x7e]+)(?::as([A-Za-z]+))?(:all)?$/.exec(prop);
  if (!m) return null;
  const form = (m[2] ?? 'Raw') as HeaderForm;
  if (!FORMS.has(form)) return null;
  return { name: m[1]!, form, all: !!m[3] };
}

// Fields defined by RFC 5322 and RFC 2369: a form may be used on them only where §4.1.2 lists it.
const RFC5322_2369 = new Set(['date', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'message-id', 'in-reply-to',
  'references', 'subject', 'comments', 'keywords', 'resent-date', 'resent-from', 'resent-sender', 'resent-to',
  'resent-cc', 'resent-bcc', 'resent-message-id', 'return-path', 'received', 'list-help', 'list-unsubscribe',
  'list-subscribe', 'list-post', 'list-owner', 'list-archive']);
const ALLOWED: Record<Exclude<HeaderForm, 'Raw'>, string[]> = {
  Text: ['subject', 'comments', 'keywords', 'list-id'],
  Addresses: ['from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'resent-from', 'resent-sender', 'resent-reply-to',
    'resent-to', 'resent-cc', 'resent-bcc'],
  GroupedAddresses: [],
  MessageIds: ['message-id', 'in-reply-to', 'references', 'resent-message-id'],
  Date: ['date', 'resent-date'],
  URLs: ['list-help', 'list-unsubscribe', 'list-subscribe', 'list-post', 'list-owner', 'list-archive'],
};
ALLOWED.GroupedAddresses = ALLOWED.Addresses;

/** Whether `form` may be fetched for header `name` (the "may only be fetched" lists of RFC 8621 §4.1.2.2-7). */
export function formAllowed(name: string, form: HeaderForm): boolean {
  if (form === 'Raw') return true;
  const n = name.toLowerCase();
  return ALLOWED[form].includes(n) || !RFC5322_2369.has(n);
}

/** RFC 8621 §4.1.2.3 Addresses. */
export function addressesForm(raw: string): EmailAddress[] {
  return groupedAddressesForm(raw).flatMap((g) => g.addresses);
}

/** RFC 8621 §4.1.2.4 GroupedAddresses: consecutive ungrouped mailboxes share one group with a null name. */
export function groupedAddressesForm(raw: string): EmailAddressGroup[] {
  const out: EmailAddressGroup[] = [];
  const addr = (a: { name: string; address: string }): EmailAddress =>
    ({ name: a.name.trim() ? a.name.trim().normalize('NFC') : null, email: a.address });
  let open: EmailAddressGroup | null = null;
  for (const item of addressParser(unfold(raw))) {
    if (item.group) { out.push({ name: item.name.trim() || null, addresses: item.group.map(addr) }); open = null; continue; }
    if (!item.address && !item.name) continue;
    if (!open) out.push(open = { name: null, addresses: [] });
    open.addresses.push(addr(item));
  }
  return out;
}

/** RFC 8621 §4.1.2.5 MessageIds: msg-ids without CFWS and angle brackets; null when none parse. */
export function messageIdsForm(raw: string): string[] | null {
  const v = unfold(raw).replace(/\([^()]*\)/g, ' ');
  const ids = [...v.matchAll(/<\s*([^<>\s]+?)\s*>/g)].map((m) => m[1]!);
  if (ids.length) return ids;
  const bare = v.trim();
  return /^[^\s<>@]+@[^\s<>@]+$/.test(bare) ? [bare] : null;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ZONES: Record<string, number> = { ut: 0, gmt: 0, z: 0, est: -300, edt: -240, cst: -360, cdt: -300,
  mst: -420, mdt: -360, pst: -480, pdt: -420 };

/** RFC 8621 §4.1.2.6 Date: an RFC 5322 §3.3 date-time as RFC 3339 with its own offset; null if unparseable. */
export function dateForm(raw: string): string | null {
  const v = unfold(raw).replace(/\([^()]*\)/g, ' ').replace(/\s+/g, ' ').trim();
  const m = /^(?:[A-Za-z]{3},?\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([+-]\d{4}|[A-Za-z]+)?$/.exec(v);
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900; else if (m[3]!.length === 3) year += 1900;
  const [day, hh, mm, ss] = [Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
  if (month < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return null;
  const zone = m[7] ?? '-0000';
  let offMin: number;
  if (/^[+-]\d{4}$/.test(zone)) {
    const sign = zone[0] === '-' ? -1 : 1;
    offMin = sign * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5)));
  } else offMin = ZONES[zone.toLowerCase()] ?? 0;
  const p2 = (n: number) => String(n).padStart(2, '0');
  const off = offMin === 0 ? 'Z' : `${offMin < 0 ? '-' : '+'}${p2(Math.floor(Math.abs(offMin) / 60))}:${p2(Math.abs(offMin) % 60)}`;
  return `${String(year).padStart(4, '0')}-${p2(month + 1)}-${p2(day)}T${p2(hh)}:${p2(mm)}:${p2(Math.min(ss, 59))}${off}`;
}

/** RFC 8621 §4.1.2.7 URLs: the `<...>` items of an RFC 2369 list, comments dropped; null if none. */
export function urlsForm(raw: string): string[] | null {
  const v = unfold(raw).replace(/\([^()]*\)/g, ' ');
  const urls = [...v.matchAll(/<\s*([^<>]*?)\s*>/g)].map((m) => m[1]!.replace(/\s+/g, ''));
  return urls.length ? urls : null;
}

/** Converts one Raw value to a form. */
export function applyForm(raw: string, form: HeaderForm): unknown {
  switch (form) {
    case 'Raw': return raw;
    case 'Text': return textForm(raw);
    case 'Addresses': return addressesForm(raw);
    case 'GroupedAddresses': return groupedAddressesForm(raw);
    case 'MessageIds': return messageIdsForm(raw);
    case 'Date': return dateForm(raw);
    case 'URLs': return urlsForm(raw);
  }
}

/** The value of a `header:` property over a header list (RFC 8621 §4.1.3: last instance, or all with `:all`). */
export function headerValue(headers: RawHeader[], p: HeaderProperty): unknown {
  const name = p.name.toLowerCase();
  const found = headers.filter((h) => h.name.toLowerCase() === name);
  if (p.all) return found.map((h) => applyForm(h.value, p.form));
  const last = found.at(-1);
  return last === undefined ? null : applyForm(last.value, p.form);
}
