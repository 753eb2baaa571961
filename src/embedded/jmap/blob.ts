/**
 * RFC 9404 (JMAP Blob Management) §4.2 `Blob/get`: many blobs' octets in one API request, so a client that needs
 * many raw messages (an IMAP gateway answering `FETCH 1:* BODY[]`) pays one round trip per batch, not per blob.
 *
 * Served here: `Blob/get` only, with the properties `data:asText`, `data:asBase64`, `data`, `size` and
 * `digest:sha` / `digest:sha-256`, and the `offset` / `length` arguments. `Blob/upload` and `Blob/lookup` (§4.1,
 * §4.3) are not implemented: they answer `unknownMethod`, and the account capability says no type names and no
 * data sources (this is the test store; the gateway only reads).
 */
import { createHash } from 'node:crypto';
import { type Args, type Handler, account, getIds, invalid, onlyArgs } from './context.ts';

/** RFC 9404 §3 capability URN. */
export const BLOB = 'urn:ietf:params:jmap:blob';

/** RFC 9404 §3: the account capability object. */
export const BLOB_ACCOUNT_CAPABILITY = { maxSizeBlobSet: null, maxDataSources: 0, supportedTypeNames: [], supportedDigestAlgorithms: ['sha', 'sha-256'] };

const DIGESTS: Record<string, string> = { 'digest:sha': 'sha1', 'digest:sha-256': 'sha256' };
const PROPERTIES = ['id', 'data', 'data:asText', 'data:asBase64', 'size', ...Object.keys(DIGESTS)];
const utf8 = new TextDecoder('utf-8', { fatal: true });
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

export const blobMethods: Record<string, Handler> = { 'Blob/get': get };
