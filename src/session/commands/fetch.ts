/**
 * FETCH / UID FETCH (RFC 9051 §6.4.5, §6.4.9) over JMAP.
 *
 * Round-trip budget (DESIGN.md rule 8), per batch of messages:
 * - one `Email/get` of metadata for FLAGS / INTERNALDATE / RFC822.SIZE / THREADID and for the blobIds that key
 *   the blob-derived cache (../blob-cache.ts); EMAILID needs none (the id is in the UID map);
 * - one `Email/get` of `headers` for BODY.PEEK[HEADER.FIELDS (...)] (the folder listing) and for ENVELOPEs not
 *   in the cache; one `Email/get` of `preview` for PREVIEW (RFC 8970) not in the cache;
 * - a blob download per message only when body content, BINARY or a BODYSTRUCTURE not in the cache is asked for,
 *   or a header value is not 7-bit (JMAP may have replaced invalid octets, RFC 8621 §4.1.2.1, so such headers
 *   come from the raw message). Each blob is downloaded at most once per command and parsed at most once.
 *
 * Line ends: bytes taken from the stored message go out exactly as stored (BODY[] is the message byte for byte,
 * bare LF included, and its length is RFC822.SIZE); lines the gateway writes itself end in CRLF. BINARY of a
 * text part goes out with CRLF (RFC 9051 §6.4.5 BINARY).
 */
import type { EmailMeta } from '../../backend/backend.ts';
import { bodyStructure } from '../../backend/mime/bodystructure.ts';
import { decodeTransfer, toCrlf } from '../../backend/mime/decode.ts';
import { envelopeOf } from '../../backend/mime/envelope.ts';
import { parseHeaderBlock } from '../../backend/mime/header.ts';
import { applyPartial, extractSection, resolvePart } from '../../backend/mime/sections.ts';
import { parseStructure, type MimePart } from '../../backend/mime/structure.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, FetchItem, FetchResponseItem, Section } from '../../protocol/types.ts';
import { blobCache, type BlobDerived } from '../blob-cache.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { Session } from '../session.ts';
import type { MailboxView, MessageRef } from '../view.ts';

/** Messages per batch: bounds memory and keeps each JMAP request under typical `maxObjectsInGet` multiples. */
const BATCH = 250;
/** Blob downloads in flight at once per command. */
const BLOB_CONCURRENCY = 4;
/** RFC 8970 §3.3: a preview MUST NOT exceed 256 characters. */
const MAX_PREVIEW_CHARS = 256;

type Need = {
  meta: boolean; headers: boolean; blob: boolean; setsSeen: boolean;
  envelope: boolean; structure: boolean; preview: boolean;
};
type HeaderList = Array<{ name: string; value: string }>;

export async function fetchCommand(s: Session, c: CommandOf<'FETCH'>): Promise<HandlerResult> {
  if (c.changedSince !== undefined || c.vanished) throw ImapError.bad('CHANGEDSINCE/VANISHED need CONDSTORE/QRESYNC, not supported yet');
  const view = s.selected!;
  const items = c.uid && !c.items.some((i) => i.type === 'UID') ? [{ type: 'UID' } as FetchItem, ...c.items] : c.items;
  const need = needsOf(items, view.readOnly);
  const refs = view.resolve(c.sequence, c.uid);
  for (let i = 0; i < refs.length; i += BATCH) await fetchBatch(s, view, refs.slice(i, i + BATCH), items, need);
}

function needsOf(items: FetchItem[], readOnly: boolean): Need {
  const need: Need = { meta: false, headers: false, blob: false, setsSeen: false, envelope: false, structure: false, preview: false };
  for (const item of items) {
    switch (item.type) {
      case 'UID':
      case 'EMAILID':
        break;
      case 'FLAGS':
      case 'INTERNALDATE':
      case 'RFC822.SIZE':
      case 'THREADID':
        need.meta = true;
        break;
      case 'ENVELOPE':
        need.envelope = need.meta = true;
        break;
      case 'BODYSTRUCTURE':
        need.structure = need.meta = true;
        break;
      case 'PREVIEW':
        need.preview = need.meta = true;
        break;
      case 'BODY':
        if (isHeaderFieldsOnly(item.section)) need.headers = true;
        else need.blob = true;
        if (!item.peek) need.setsSeen = !readOnly;
        break;
      case 'BINARY':
        need.blob = true;
        if (!item.peek) need.setsSeen = !readOnly;
        break;
      case 'BINARY.SIZE':
      case 'RFC822.HEADER':
        need.blob = true;
        break;
      case 'RFC822':
      case 'RFC822.TEXT':
        need.blob = true;
        need.setsSeen = !readOnly;
        break;
      default:
        throw ImapError.no(`FETCH ${item.type} is not supported by this server yet`, 'CANNOT');
    }
  }
  if (need.setsSeen || need.blob || need.headers) need.meta = true;
  return need;
}

function isHeaderFieldsOnly(section: Section): boolean {
  return section.part.length === 0 && (section.kind === 'HEADER.FIELDS' || section.kind === 'HEADER.FIELDS.NOT');
}

/** One message's data for building its response items. */
interface Msg {
  ref: MessageRef;
  meta: EmailMeta | undefined;
  raw: Uint8Array | undefined;
  root: MimePart | undefined;
  headers: HeaderList | undefined;
  derived: BlobDerived;
  /** Decoded BINARY data per part path (`1.2`), computed before anything is sent (UNKNOWN-CTE fails first). */
  binary: Map<string, Uint8Array>;
}

async function fetchBatch(s: Session, view: MailboxView, refs: MessageRef[], items: FetchItem[], need: Need): Promise<void> {
  const backend = s.account!.backend;
  const accountKey = s.account!.accountKey;
  const ids = refs.map((r) => r.emailId);
  const [metas, headerLists] = await Promise.all([
    need.meta ? backend.getEmails(ids) : Promise.resolve([]),
    need.headers ? backend.getHeaderLists(ids) : Promise.resolve(new Map<string, HeaderList>()),
  ]);
  const metaById = new Map(metas.map((m) => [m.id, m] as const));
  const cached = (id: string): BlobDerived => {
    const m = metaById.get(id);
    return (m && blobCache.get(accountKey, m.blobId)) || {};
  };
  const present = refs.filter((r) => metaById.has(r.emailId) || !need.meta);
  const derived = new Map(present.map((r) => [r.emailId, cached(r.emailId)] as const));

  // Second round (only for what the cache lacks): header lists for ENVELOPE, previews.
  const envMiss = need.envelope && !need.blob ? present.filter((r) => !derived.get(r.emailId)!.envelope).map((r) => r.emailId) : [];
  const headerMiss = need.headers ? [] : envMiss;
  const previewMiss = need.preview ? present.filter((r) => derived.get(r.emailId)!.preview === undefined).map((r) => r.emailId) : [];
  const [moreHeaders, previews] = await Promise.all([
    headerMiss.length ? backend.getHeaderLists(headerMiss) : Promise.resolve(new Map<string, HeaderList>()),
    previewMiss.length ? backend.getPreviews(previewMiss) : Promise.resolve(new Map<string, string>()),
  ]);
  for (const [id, list] of moreHeaders) headerLists.set(id, list);

  const blobRefs = present.filter((r) => {
    const d = derived.get(r.emailId)!;
    if (need.blob || (need.structure && !d.bodystructure)) return true;
    const headersInexact = !isExactAsText(headerLists.get(r.emailId));
    return (need.headers && headersInexact) || (need.envelope && !d.envelope && headersInexact);
  });
  const blobs = await downloadAll(s, blobRefs, metaById);

  const msgs: Msg[] = present.map((ref) => {
    const raw = blobs.get(ref.emailId);
    return {
      ref, meta: metaById.get(ref.emailId), raw, root: raw ? parseStructure(raw) : undefined,
      headers: headerLists.get(ref.emailId), derived: derived.get(ref.emailId)!, binary: new Map(),
    };
  });
  for (const m of msgs) {
    if (derive(m, need, previews.get(m.ref.emailId)) && m.meta) blobCache.put(accountKey, m.meta.blobId, m.derived);
    for (const item of items) if (item.type === 'BINARY' || item.type === 'BINARY.SIZE') binaryOf(m, item.part);
  }
  if (need.setsSeen) await markSeen(s, present, metaById);
  for (const m of msgs) {
    const out: FetchResponseItem[] = [];
    for (const item of items) out.push(...respond(view, m, item));
    if (need.setsSeen && !items.some((i) => i.type === 'FLAGS') && m.meta) {
      out.push({ type: 'FLAGS', flags: view.flagsOf(m.ref.uid, m.meta.keywords) }); // RFC 9051 §6.4.5: \Seen was set
    }
    await s.send({ type: 'FETCH', seq: m.ref.seq, items: out });
  }
}

/** Fills what the command needs and the cache lacks (ENVELOPE, BODYSTRUCTURE / BODY, PREVIEW); true if any. */
function derive(m: Msg, need: Need, preview: string | undefined): boolean {
  const d = m.derived;
  const before = Object.keys(d).length;
  if (need.envelope && !d.envelope) {
    if (m.raw && m.root) d.envelope = envelopeOf(m.raw, m.root.fields);
    else if (m.headers) {
      const block = encoder.encode(m.headers.map((h) => `${h.name}:${h.value}\r\n`).join('') + '\r\n');
      d.envelope = envelopeOf(block, parseHeaderBlock(block, 0, block.length).fields);
    }
  }
  if (need.structure && (!d.bodystructure || !d.body) && m.raw && m.root) {
    d.bodystructure = bodyStructure(m.raw, m.root, true);
    d.body = bodyStructure(m.raw, m.root, false);
  }
  if (need.preview && d.preview === undefined && preview !== undefined) d.preview = [...preview].slice(0, MAX_PREVIEW_CHARS).join('');
  return Object.keys(d).length > before;
}

/**
 * BINARY[part] content (RFC 3516 §4.2, RFC 9051 §6.4.5): a leaf part's body with its Content-Transfer-Encoding
 * removed (text parts with CRLF line ends); BINARY[] and non-leaf parts as stored; a part that does not exist
 * is empty (as Dovecot answers). An unknown encoding fails the command with NO [UNKNOWN-CTE].
 */
function binaryOf(m: Msg, path: number[]): Uint8Array {
  const key = path.join('.');
  const hit = m.binary.get(key);
  if (hit) return hit;
  let data: Uint8Array = new Uint8Array(0);
  if (m.raw && m.root) {
    const part = path.length ? resolvePart(m.root, path) : m.root;
    if (!path.length) data = m.raw;
    else if (part && (part.contentType.type === 'multipart' || part.message)) data = m.raw.subarray(part.bodyStart, part.bodyEnd);
    else if (part) {
      const decoded = decodeTransfer(m.raw.subarray(part.bodyStart, part.bodyEnd), part.encoding);
      if (!decoded) throw ImapError.no(`Unknown Content-Transfer-Encoding in part ${key}`, 'UNKNOWN-CTE');
      data = part.contentType.type === 'text' ? toCrlf(decoded) : decoded;
    }
  }
  m.binary.set(key, data);
  return data;
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

function respond(view: MailboxView, m: Msg, item: FetchItem): FetchResponseItem[] {
  const { ref, meta, raw, root } = m;
  const section = (spec: Section) => (raw && root ? extractSection(raw, root, sectionSpec(spec)) : null);
  switch (item.type) {
    case 'UID':
      return [{ type: 'UID', uid: ref.uid }];
    case 'FLAGS':
      return [{ type: 'FLAGS', flags: view.flagsOf(ref.uid, meta!.keywords) }];
    case 'INTERNALDATE':
      return [{ type: 'INTERNALDATE', date: meta!.receivedAt }];
    case 'RFC822.SIZE':
      return [{ type: 'RFC822.SIZE', size: meta!.size }];
    case 'EMAILID':
      return [{ type: 'EMAILID', id: ref.emailId }]; // RFC 8474 §5
    case 'THREADID':
      return [{ type: 'THREADID', id: meta!.threadId || null }];
    case 'ENVELOPE':
      return m.derived.envelope ? [{ type: 'ENVELOPE', envelope: m.derived.envelope }] : [];
    case 'BODYSTRUCTURE': {
      const structure = item.extended ? m.derived.bodystructure : m.derived.body;
      return structure === undefined ? [] : [{ type: 'BODYSTRUCTURE', extended: item.extended, structure }];
    }
    case 'PREVIEW':
      // RFC 8970 §3.2: never NIL without LAZY; "" when no preview can be made. JMAP's is always at hand.
      return [{ type: 'PREVIEW', text: m.derived.preview ?? '' }];
    case 'RFC822':
      return [{ type: 'RFC822', data: raw ?? null }];
    case 'RFC822.HEADER':
      return [{ type: 'RFC822.HEADER', data: section({ part: [], kind: 'HEADER' }) }];
    case 'RFC822.TEXT':
      return [{ type: 'RFC822.TEXT', data: section({ part: [], kind: 'TEXT' }) }];
    case 'BODY': {
      const full = raw ? section(item.section) : headerFieldsFromList(m.headers ?? [], item.section);
      const data = full && item.partial ? applyPartial(full, item.partial.offset, item.partial.length) : full;
      return [{ type: 'BODY', section: item.section, ...(item.partial ? { origin: item.partial.offset } : {}), data }];
    }
    case 'BINARY': {
      const full = binaryOf(m, item.part);
      const data = item.partial ? applyPartial(full, item.partial.offset, item.partial.length) : full;
      return [{ type: 'BINARY', part: item.part, ...(item.partial ? { origin: item.partial.offset } : {}), data }];
    }
    case 'BINARY.SIZE':
      return [{ type: 'BINARY.SIZE', part: item.part, size: binaryOf(m, item.part).length }];
    default:
      return [];
  }
}

function sectionSpec(section: Section): Parameters<typeof extractSection>[2] {
  return { part: section.part, ...(section.kind ? { kind: section.kind } : {}), ...(section.fields ? { fields: section.fields } : {}) };
}

const encoder = new TextEncoder();

/**
 * True when header lines rebuilt from JMAP's Raw values equal the stored bytes: every value is printable 7-bit
 * (no octet JMAP may have replaced, RFC 8621 §4.1.2.1) and folded with CRLF (no bare LF message).
 */
function isExactAsText(headers: HeaderList | undefined): boolean {
  if (!headers) return false;
  return headers.every((h) => /^[\t\x20-\x7e]*$/.test(h.name) && /^(?:[\t\x20-\x7e]|\r\n)*$/.test(h.value));
}

/**
 * BODY[HEADER.FIELDS (...)] / .NOT from JMAP's `headers` list (RFC 8621 §4.1.3: names as written, Raw values),
 * in message order, each line `Name:value` CRLF, then the empty line (RFC 9051 §6.4.5).
 */
function headerFieldsFromList(headers: HeaderList, section: Section): Uint8Array {
  const wanted = new Set((section.fields ?? []).map((f) => f.toLowerCase()));
  const not = section.kind === 'HEADER.FIELDS.NOT';
  let text = '';
  for (const h of headers) if (wanted.has(h.name.toLowerCase()) !== not) text += `${h.name}:${h.value}\r\n`;
  return encoder.encode(text + '\r\n');
}
