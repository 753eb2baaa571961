/**
 * The embedded store on node:http: the hot routes of http.ts (Session GET, API POST RFC 8620 §3.1, upload POST §6.1,
 * download GET §6.2) answered straight from the IncomingMessage with `res.end`, without the web Request/Response,
 * Headers, streams and AbortSignal that @hono/node-server builds per request; everything else (the EventSource push
 * §7.3, HEAD, unknown paths, requests this module cannot read exactly as hono would) goes to the hono app unchanged.
 *
 * Same octets on both paths: the routes are the same functions (http.ts `HotRoutes`); this module only takes a
 * request whose URL hono would read the same way (no `%`, no dot segments, no backslash, plain query characters;
 * a Host header that hono accepts as is) and sends the answer with the headers hono's adapter would: the answer's
 * own, then content-length. test/embedded/node-fast-path.test.ts compares the two paths octet for octet.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { getRequestListener } from '@hono/node-server';
import { getQueryParam } from 'hono/utils/url';
import type { Hono } from 'hono';
import { serverFail, type HotRoutes, type HttpAnswer, type HttpAsk } from './http.ts';
import type { EmbeddedLimits } from './types.ts';

/** A path segment whose reading does not depend on percent-decoding or URL normalisation (RFC 3986 pchar minus `%`). */
const SEG = "([A-Za-z0-9\\-._~!$&'()*+,;=:@]+)";
/** A query that `new URL` leaves as is (no `'`, `"`, `<`, `>`, `` ` ``, space or non-ASCII to percent-encode). */
const QUERY = '(?:\\?[A-Za-z0-9\\-._~!$&()*+,;=:@/?%]*)?';
const SESSION = new RegExp(`^/(?:\\.well-known/jmap|jmap/session)${QUERY}$`);
const API = new RegExp(`^/jmap/api/?${QUERY}$`);
const UPLOAD = new RegExp(`^/jmap/upload/${SEG}/?${QUERY}$`);
const DOWNLOAD = new RegExp(`^/jmap/download/${SEG}/${SEG}/${SEG}${QUERY}$`);
const dotSegment = (s: string) => s === '.' || s === '..';

/**
 * An `HttpAsk` over node's request. A POST body is collected from the first tick on (the auth check before it is
 * async), at most `cap` octets of it: past that, body() gives null and the rest is left to node to discard.
 */
function nodeAsk(req: IncomingMessage, cap = 0): HttpAsk {
  const read = () => new Promise<Uint8Array | null>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      if (n > cap) return;
      n += c.length;
      if (n > cap) { chunks.length = 0; resolve(null); } else chunks.push(c);
    });
    req.on('end', () => { if (n <= cap) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, n)); });
    req.on('error', reject);
    req.on('close', () => { if (!req.complete) reject(new Error('request aborted')); });
  });
  const body = req.method === 'POST' ? read() : Promise.resolve(new Uint8Array(0));
  body.catch(() => {}); // an aborted body nobody asked for (e.g. after a 401) is no unhandled rejection
  return {
    header: (name) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    },
    body: (max) => body.then((b) => (b === null || b.length > max ? null : b)),
  };
}

/** `scheme://host` as hono's node adapter builds the request URL, or null when it would refuse the Host (it answers 400). */
let lastOrigin = { host: '', scheme: '', origin: '' };
function originOf(req: IncomingMessage): string | null {
  const host = req.headers.host;
  if (!host) return null;
  const scheme = (req.socket as TLSSocket | undefined)?.encrypted ? 'https' : 'http';
  if (lastOrigin.host === host && lastOrigin.scheme === scheme) return lastOrigin.origin;
  let url: URL;
  try { url = new URL(`${scheme}://${host}/`); } catch { return null; }
  if (url.hostname.length !== host.length && url.hostname !== host.replace(/:\d+$/, '')) return null;
  lastOrigin = { host, scheme, origin: `${scheme}://${host}` };
  return lastOrigin.origin;
}

/** A header value both node and the web Headers send as is: visible ASCII, inner spaces (RFC 9110 §5.5). */
const PLAIN_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

/** A hot route of http.ts, as read from the request line. */
export type HotRoute =
  | { kind: 'session' } | { kind: 'api' } | { kind: 'upload'; accountId: string }
  | { kind: 'download'; accountId: string; blobId: string; name: string; type: string | undefined };

/**
 * The hot route a request line names, or null when hono must take the request: another method or path, or a target
 * whose reading would depend on percent-decoding or URL normalisation, or a download `type` that is no plain
 * header value.
 */
export function hotRoute(method: string | undefined, url: string): HotRoute | null {
  if (method === 'POST') {
    if (API.test(url)) return { kind: 'api' };
    const m = UPLOAD.exec(url);
    return m && !dotSegment(m[1]!) ? { kind: 'upload', accountId: m[1]! } : null;
  }
  if (method !== 'GET') return null;
  if (SESSION.test(url)) return { kind: 'session' };
  const d = DOWNLOAD.exec(url);
  if (!d || dotSegment(d[1]!) || dotSegment(d[2]!) || dotSegment(d[3]!)) return null;
  const type = getQueryParam(`http://x${url}`, 'type') as string | undefined;
  return type === undefined || PLAIN_VALUE.test(type) ? { kind: 'download', accountId: d[1]!, blobId: d[2]!, name: d[3]!, type } : null;
}

function send(res: ServerResponse, a: HttpAnswer): void {
  const length = typeof a.body === 'string' ? Buffer.byteLength(a.body) : a.body.byteLength;
  res.writeHead(a.status, { ...a.headers, 'Content-Length': length }); // spelled as @hono/node-server's responseViaCache
  res.end(a.body);
}

/** The answer of a hot route for this request, or null when hono must take it. */
function answer(routes: HotRoutes, limits: EmbeddedLimits, req: IncomingMessage): Promise<HttpAnswer> | null {
  const url = req.url ?? '';
  const r = url.startsWith('/') ? hotRoute(req.method, url) : null;
  const base = r && originOf(req);
  if (!r || !base) return null;
  switch (r.kind) {
    case 'api': return routes.api(nodeAsk(req, limits.maxSizeRequest));
    case 'upload': return routes.upload(nodeAsk(req, limits.maxSizeUpload), r.accountId);
    case 'session': return routes.session(nodeAsk(req), base);
    case 'download': return routes.download(nodeAsk(req), r.accountId, r.blobId, r.name, r.type);
  }
}

/** The store's node:http request listener: hot routes here, the rest through hono (@hono/node-server). */
export function nodeListener(routes: HotRoutes, app: Hono, limits: EmbeddedLimits): RequestListener {
  const viaHono = getRequestListener(app.fetch);
  const fail = (res: ServerResponse, err: unknown) => { if (!res.headersSent) send(res, serverFail(err)); else res.destroy(); };
  return (req, res) => {
    const a = answer(routes, limits, req);
    if (a === null) { void viaHono(req, res); return; }
    a.then((ok) => { try { send(res, ok); } catch (err) { fail(res, err); } }, (err: unknown) => fail(res, err));
  };
}
