/**
 * FETCH / UID FETCH (RFC 9051 §6.4.5, §6.4.9) over JMAP.
 *
 * Round-trip budget (DESIGN.md rule 8), per batch of messages: one `Email/get` for FLAGS / INTERNALDATE /
 * RFC822.SIZE, one `Email/get` of `headers` for BODY.PEEK[HEADER.FIELDS (...)] (the folder listing), and a blob
 * download per message only when body content is asked for (or a header value is not 7-bit: JMAP may have
 * replaced invalid octets, RFC 8621 §4.1.2.1, so such headers come from the raw message).
 *
 * Line ends: bytes taken from the stored message go out exactly as stored (BODY[] is the message byte for byte,
 * bare LF included, and its length is RFC822.SIZE); lines the gateway writes itself end in CRLF.
 */
import type { EmailMeta } from '../../backend/backend.ts';
import { applyPartial, extractSectionFromRaw, headerFieldsFromRaw } from '../../backend/mime/sections.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, FetchItem, FetchResponseItem, Section } from '../../protocol/types.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { Session } from '../session.ts';
import type { MailboxView, MessageRef } from '../view.ts';

/** Messages per batch: bounds memory and keeps each JMAP request under typical `maxObjectsInGet` multiples. */
const BATCH = 250;
/** Blob downloads in flight at once per command. */
const BLOB_CONCURRENCY = 4;

type Need = { meta: boolean; headers: boolean; blob: boolean; setsSeen: boolean };

export async function fetchCommand(s: Session, c: CommandOf<'FETCH'>): Promise<HandlerResult> {
  if (c.changedSince !== undefined || c.vanished) throw ImapError.bad('CHANGEDSINCE/VANISHED need CONDSTORE/QRESYNC, not supported yet');
  const view = s.selected!;
  const items = c.uid && !c.items.some((i) => i.type === 'UID') ? [{ type: 'UID' } as FetchItem, ...c.items] : c.items;
  const need = needsOf(items, view.readOnly);
  const refs = view.resolve(c.sequence, c.uid);
  for (let i = 0; i < refs.length; i += BATCH) await fetchBatch(s, view, refs.slice(i, i + BATCH), items, need);
}

function needsOf(items: FetchItem[], readOnly: boolean): Need {
  const need: Need = { meta: false, headers: false, blob: false, setsSeen: false };
  for (const item of items) {
    switch (item.type) {
      case 'UID':
        break;
      case 'FLAGS':
      case 'INTERNALDATE':
      case 'RFC822.SIZE':
        need.meta = true;
        break;
      case 'BODY':
        if (isHeaderFieldsOnly(item.section)) need.headers = true;
        else need.blob = true;
        if (!item.peek) need.setsSeen = !readOnly;
        break;
      case 'RFC822':
      case 'RFC822.TEXT':
        need.blob = true;
        need.setsSeen = !readOnly;
        break;
      case 'RFC822.HEADER':
        need.blob = true;
        break;
      default:
        throw ImapError.no(`FETCH ${item.type} is not supported by this server yet`, 'CANNOT');
    }
  }
  if (need.setsSeen) need.meta = true;
  return need;
}

function isHeaderFieldsOnly(section: Section): boolean {
  return section.part.length === 0 && (section.kind === 'HEADER.FIELDS' || section.kind === 'HEADER.FIELDS.NOT');
}

async function fetchBatch(s: Session, view: MailboxView, refs: MessageRef[], items: FetchItem[], need: Need): Promise<void> {
  const backend = s.account!.backend;
  const ids = refs.map((r) => r.emailId);
  const [metas, headerLists] = await Promise.all([
    need.meta || need.blob || need.headers ? backend.getEmails(ids) : Promise.resolve([]),
    need.headers ? backend.getHeaderLists(ids) : Promise.resolve(new Map<string, Array<{ name: string; value: string }>>()),
  ]);
  const metaById = new Map(metas.map((m) => [m.id, m] as const));
  if (need.setsSeen) await markSeen(s, refs, metaById);
  const blobRefs = need.blob ? refs : refs.filter((r) => need.headers && !isExactAsText(headerLists.get(r.emailId)));
  const blobs = await downloadAll(s, blobRefs, metaById);
  for (const ref of refs) {
    const meta = metaById.get(ref.emailId);
    if (!meta && (need.meta || need.blob || need.headers)) continue; // vanished from the store since the view was built
    const raw = blobs.get(ref.emailId);
    const out: FetchResponseItem[] = [];
    for (const item of items) out.push(...respond(view, ref, item, meta, raw, headerLists.get(ref.emailId)));
    if (need.setsSeen && !items.some((i) => i.type === 'FLAGS') && meta) {
      out.push({ type: 'FLAGS', flags: view.flagsOf(ref.uid, meta.keywords) }); // RFC 9051 §6.4.5: \Seen was set
    }
    await s.send({ type: 'FETCH', seq: ref.seq, items: out });
  }
}

/** Implicit `\Seen` of a non-PEEK body fetch (RFC 9051 §6.4.5), stored before the data is sent. */
async function markSeen(s: Session, refs: MessageRef[], metaById: Map<string, EmailMeta>): Promise<void> {
  const unseen = refs.map((r) => metaById.get(r.emailId)).filter((m): m is EmailMeta => !!m && !m.keywords.includes('$seen'));
  if (unseen.length === 0) return;
  await s.account!.backend.updateKeywords(unseen.map((m) => ({ id: m.id, add: ['$seen'], remove: [] })));
  for (const m of unseen) m.keywords = [...m.keywords, '$seen'];
}

async function downloadAll(s: Session, refs: MessageRef[], metaById: Map<string, EmailMeta>): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const queue = refs.map((r) => metaById.get(r.emailId)).filter((m): m is EmailMeta => !!m);
  const worker = async (): Promise<void> => {
    for (let m = queue.shift(); m; m = queue.shift()) out.set(m.id, await s.account!.backend.downloadBlob(m.blobId));
  };
  await Promise.all(Array.from({ length: Math.min(BLOB_CONCURRENCY, queue.length) }, worker));
  return out;
}

function respond(
  view: MailboxView,
  ref: MessageRef,
  item: FetchItem,
  meta: EmailMeta | undefined,
  raw: Uint8Array | undefined,
  headers: Array<{ name: string; value: string }> | undefined,
): FetchResponseItem[] {
  switch (item.type) {
    case 'UID':
      return [{ type: 'UID', uid: ref.uid }];
    case 'FLAGS':
      return [{ type: 'FLAGS', flags: view.flagsOf(ref.uid, meta!.keywords) }];
    case 'INTERNALDATE':
      return [{ type: 'INTERNALDATE', date: meta!.receivedAt }];
    case 'RFC822.SIZE':
      return [{ type: 'RFC822.SIZE', size: meta!.size }];
    case 'RFC822':
      return [{ type: 'RFC822', data: raw ?? null }];
    case 'RFC822.HEADER':
      return [{ type: 'RFC822.HEADER', data: raw ? extractSectionFromRaw(raw, { part: [], kind: 'HEADER' }) : null }];
    case 'RFC822.TEXT':
      return [{ type: 'RFC822.TEXT', data: raw ? extractSectionFromRaw(raw, { part: [], kind: 'TEXT' }) : null }];
    case 'BODY': {
      const full = raw ? extractSectionFromRaw(raw, sectionSpec(item.section)) : headerFieldsFromList(headers ?? [], item.section);
      const data = full && item.partial ? applyPartial(full, item.partial.offset, item.partial.length) : full;
      return [{ type: 'BODY', section: item.section, ...(item.partial ? { origin: item.partial.offset } : {}), data }];
    }
    default:
      return [];
  }
}

function sectionSpec(section: Section): Parameters<typeof extractSectionFromRaw>[1] {
  return { part: section.part, ...(section.kind ? { kind: section.kind } : {}), ...(section.fields ? { fields: section.fields } : {}) };
}

const encoder = new TextEncoder();

/**
 * True when header lines rebuilt from JMAP's Raw values equal the stored bytes: every value is printable 7-bit
 * (no octet JMAP may have replaced, RFC 8621 §4.1.2.1) and folded with CRLF (no bare LF message).
 */
function isExactAsText(headers: Array<{ name: string; value: string }> | undefined): boolean {
  if (!headers) return false;
  return headers.every((h) => /^[\t\x20-\x7e]*$/.test(h.name) && /^(?:[\t\x20-\x7e]|\r\n)*$/.test(h.value));
}

/**
 * BODY[HEADER.FIELDS (...)] / .NOT from JMAP's `headers` list (RFC 8621 §4.1.3: names as written, Raw values),
 * in message order, each line `Name:value` CRLF, then the empty line (RFC 9051 §6.4.5).
 */
function headerFieldsFromList(headers: Array<{ name: string; value: string }>, section: Section): Uint8Array {
  const wanted = new Set((section.fields ?? []).map((f) => f.toLowerCase()));
  const not = section.kind === 'HEADER.FIELDS.NOT';
  let text = '';
  for (const h of headers) if (wanted.has(h.name.toLowerCase()) !== not) text += `${h.name}:${h.value}\r\n`;
  return encoder.encode(text + '\r\n');
}
