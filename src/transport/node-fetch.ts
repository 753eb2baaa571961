/**
 * A `fetch` for the gateway's JMAP calls on Node: plain `node:http`/`node:https` requests over keep-alive agents.
 *
 * Why: Node's global `fetch` (undici's WHATWG pipeline) costs ~0.4 ms of CPU per request more than the same
 * exchange over `node:http` on this machine (docs/bench/profile.md, mixed load): at ~2 JMAP requests per IMAP
 * command that was a tenth of the gateway's CPU per command.
 *
 * Only the exchanges JmapClient makes whole are taken: a POST (API request RFC 8620 §3.1, upload §6.1) whose body
 * is a string or bytes and whose answer is read whole. Anything else (GETs: the session, downloads, the EventSource
 * stream, RFC 8620 §7.3) goes to the global `fetch` unchanged. Same contract as `fetch` with `redirect: 'manual'`:
 * no redirect is followed (JmapClient follows them itself), gzip/deflate/br answers are decoded, an aborted signal
 * rejects with its reason, a network failure rejects with a TypeError.
 */
import http from 'node:http';
import https from 'node:https';
import zlib from 'node:zlib';

/** The runtime's own global `fetch`, as this module found it (runtime-fetch.ts `preferFetch`). */
export const nativeFetch: typeof fetch = globalThis.fetch;

const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

/** RFC 9110 §15: statuses whose response has no content (a `Response` refuses a body for them). */
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** The body as bytes/string when it is one we can send at once; undefined = not ours (global fetch takes it). */
function plainBody(body: RequestInit['body']): string | Uint8Array | null | undefined {
  if (body === undefined || body === null) return null;
  if (typeof body === 'string' || body instanceof Uint8Array) return body;
  return undefined;
}

export const nodeFetch: typeof fetch = (input, init) => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : null;
  const body = plainBody(init?.body);
  const method = init?.method?.toUpperCase();
  if (url === null || body === undefined || method !== 'POST' || !(url.startsWith('http:') || url.startsWith('https:'))) {
    return fetch(input, init);
  }
  return post(new URL(url), body, init!);
};

function post(url: URL, body: string | Uint8Array | null, init: RequestInit): Promise<Response> {
  const signal = init.signal ?? undefined;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((v, k) => { headers[k] = v; });
  headers['accept-encoding'] ??= 'gzip, deflate, br';
  const octets = body === null ? null : typeof body === 'string' ? Buffer.from(body) : body;
  headers['content-length'] = String(octets?.length ?? 0);
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<Response>((resolve, reject) => {
    const req = lib.request(url, { method: 'POST', headers, agent: agents[url.protocol as 'http:' | 'https:'] }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(abortReason() ?? new TypeError('fetch failed', { cause: e })));
      res.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        try {
          const status = res.statusCode ?? 0;
          const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          const data = NULL_BODY.has(status) ? null : decode(raw, res.headers['content-encoding']);
          const out = new Headers();
          for (let i = 0; i < res.rawHeaders.length; i += 2) out.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          // A Buffer is a Uint8Array, i.e. a BufferSource (lib.dom's BodyInit misses Uint8Array<ArrayBufferLike>).
          resolve(new Response(data as BodyInit | null, { status, statusText: res.statusMessage ?? '', headers: out }));
        } catch (e) {
          reject(new TypeError('fetch failed', { cause: e }));
        }
      });
    });
    const abortReason = (): unknown => (signal?.aborted ? signal.reason : undefined);
    const onAbort = () => { req.destroy(); reject(signal!.reason); };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('error', (e) => { signal?.removeEventListener('abort', onAbort); reject(abortReason() ?? new TypeError('fetch failed', { cause: e })); });
    req.end(octets ?? undefined);
  });
}

/** RFC 9110 §8.4 content codings, as `fetch` decodes them; `identity` or none: the octets as they came. */
function decode(raw: Buffer, coding: string | undefined): Uint8Array {
  switch (coding?.trim().toLowerCase()) {
    case undefined: case '': case 'identity': return raw;
    case 'gzip': case 'x-gzip': return zlib.gunzipSync(raw);
    case 'deflate': try { return zlib.inflateSync(raw); } catch { return zlib.inflateRawSync(raw); } // zlib or raw, as fetch
    case 'br': return zlib.brotliDecompressSync(raw);
    default: throw new Error(`unsupported content coding ${coding}`);
  }
}
