/**
 * RFC 9404 (JMAP Blob Management) §4.2 `Blob/get`: many blobs' octets in one API request, so a client that needs
 * many raw messages (an IMAP gateway answering `FETCH 1:* BODY[]`) pays one round trip per batch, not per blob.
 *
 * Served here: `Blob/get`, with the properties `data:asText`, `data:asBase64`, `data`, `size` and
 * `digest:sha` / `digest:sha-256`, and the `offset` / `length` arguments; and `Blob/upload` (§4.1: the blob's
 * octets inside an API request, so an upload can travel with other method calls, e.g. the gateway's APPEND checks
 * its mailbox tree in the same request). `Blob/lookup` (§4.3) is not implemented (`unknownMethod`; the account
 * capability lists no type names).
 */
import { createHash } from 'node:crypto';
import { type Args, type Handler, MethodError, account, getIds, invalid, isObj, onlyArgs, resolveId } from './context.ts';

/** RFC 9404 §3 capability URN. */
export const BLOB = 'urn:ietf:params:jmap:blob';

/** RFC 9404 §3: the account capability object. */
/** RFC 9404 §4.1: DataSourceObjects one Blob/upload creation may concatenate. */
const MAX_DATA_SOURCES = 64;

export const BLOB_ACCOUNT_CAPABILITY = { maxSizeBlobSet: null, maxDataSources: MAX_DATA_SOURCES, supportedTypeNames: [], supportedDigestAlgorithms: ['sha', 'sha-256'] };

const DIGESTS: Record<string, string> = { 'digest:sha': 'sha1', 'digest:sha-256': 'sha256' };
const PROPERTIES = ['id', 'data', 'data:asText', 'data:asBase64', 'size', ...Object.keys(DIGESTS)];
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }); // RFC 9404 §4.2: the data as it is, a leading BOM included
const base64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');

/** Optional UnsignedInt argument (RFC 8620 §1.3). */
function unsigned(args: Args, name: string): number | null {
  const v = args[name];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw invalid(`${name} must be an unsigned integer`);
  return v;
}

const get: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'ids', 'properties', 'offset', 'length']);
  const accountId = account(args, ctx);
  const ids = getIds(args, ctx);
  if (ids === null) throw invalid('Blob/get needs explicit ids'); // blobs cannot be listed
  const props = (args.properties ?? ['data', 'size']) as unknown;
  if (!Array.isArray(props) || !props.every((p) => typeof p === 'string' && PROPERTIES.includes(p))) throw invalid('unknown property');
  const offset = unsigned(args, 'offset') ?? 0;
  const length = unsigned(args, 'length');
  const list: Args[] = [];
  const notFound: string[] = [];
  for (const id of ids) {
    const blob = ctx.repo.getBlob(accountId, id);
    if (!blob) { notFound.push(id); continue; }
    const end = length === null ? blob.data.length : Math.min(blob.data.length, offset + length);
    const range = blob.data.subarray(Math.min(offset, blob.data.length), end);
    const out: Args = { id };
    // RFC 9404 §4.2: the range ran past the end of the blob.
    if (offset > blob.data.length || (length !== null && offset + length > blob.data.length)) out.isTruncated = true;
    for (const p of props as string[]) {
      if (p === 'size') out.size = blob.data.length;
      else if (p === 'data:asBase64') out['data:asBase64'] = base64(range);
      else if (p === 'data:asText' || p === 'data') {
        let text: string | null = null;
        try { text = utf8.decode(range); } catch { /* not UTF-8 */ }
        if (p === 'data' && text === null) out['data:asBase64'] = base64(range);
        else { out['data:asText'] = text; if (text === null) out.isEncodingProblem = true; }
      } else if (p in DIGESTS) out[p] = createHash(DIGESTS[p]!).update(range).digest('base64');
    }
    list.push(out);
  }
  return { accountId, list, notFound };
};

/** RFC 9404 §4.1 DataSourceObject: text, base64 or a range of a stored blob; the octets, or a SetError. */
function source(d: unknown, accountId: string, ctx: Parameters<Handler>[1]): Uint8Array | Args {
  const bad = (description: string): Args => ({ type: 'invalidProperties', properties: ['data'], description });
  if (!isObj(d)) return bad('a data source must be an object');
  if (typeof d['data:asText'] === 'string') return new TextEncoder().encode(d['data:asText']);
  if (typeof d['data:asBase64'] === 'string') {
    const b64 = d['data:asBase64'];
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return bad('data:asBase64 is not base64 (RFC 4648 §4)');
    const buf = Buffer.from(b64, 'base64');
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
  }
  if (typeof d.blobId === 'string') {
    const blob = ctx.repo.getBlob(accountId, resolveId(d.blobId, ctx));
    if (!blob) return { type: 'blobNotFound', notFound: [d.blobId] };
    const offset = typeof d.offset === 'number' ? d.offset : 0;
    const end = typeof d.length === 'number' ? offset + d.length : blob.data.length;
    if (offset < 0 || end > blob.data.length || end < offset) return bad('range outside the blob');
    return blob.data.subarray(offset, end);
  }
  return bad('unknown data source');
}

/** RFC 9404 §4.1 Blob/upload: each creation's data sources concatenated into one stored blob. */
const upload: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'create']);
  const accountId = account(args, ctx, true);
  if (!isObj(args.create) || !Object.values(args.create).every(isObj)) throw invalid('create must be a map of objects');
  const create = args.create as Record<string, Args>;
  if (Object.keys(create).length > ctx.limits.maxObjectsInSet) throw new MethodError('requestTooLarge');
  const created: Args = {}, notCreated: Args = {};
  for (const [cid, o] of Object.entries(create)) {
    const extra = Object.keys(o).filter((k) => k !== 'data' && k !== 'type');
    if (extra.length || !Array.isArray(o.data) || o.data.length > MAX_DATA_SOURCES || (o.type !== undefined && o.type !== null && typeof o.type !== 'string')) {
      notCreated[cid] = { type: 'invalidProperties', properties: extra.length ? extra : ['data'] };
      continue;
    }
    const parts = (o.data as unknown[]).map((d) => source(d, accountId, ctx));
    const failed = parts.find((p) => !(p instanceof Uint8Array));
    if (failed) { notCreated[cid] = failed; continue; }
    const octets = parts as Uint8Array[];
    const size = octets.reduce((n, p) => n + p.length, 0);
    if (size > ctx.limits.maxSizeUpload) { notCreated[cid] = { type: 'tooLarge', maxSize: ctx.limits.maxSizeUpload }; continue; }
    const data = octets.length === 1 ? octets[0]! : Buffer.concat(octets);
    const type = typeof o.type === 'string' ? o.type : 'application/octet-stream';
    const { blobId } = ctx.repo.putBlob(accountId, data, type);
    ctx.createdIds.set(cid, blobId); // RFC 8620 §5.3: `#cid` names this blob in later calls of the request
    created[cid] = { id: blobId, type, size };
  }
  return { accountId, created: Object.keys(created).length ? created : null, notCreated: Object.keys(notCreated).length ? notCreated : null };
};

export const blobMethods: Record<string, Handler> = { 'Blob/get': get, 'Blob/upload': upload };
