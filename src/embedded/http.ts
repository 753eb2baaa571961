/**
 * HTTP surface of the embedded JMAP server: Session resource (RFC 8620 §2), API endpoint (§3.1), blob
 * upload/download (§6.1, §6.2) and EventSource push (§7.3). Auth: HTTP Basic or static Bearer tokens.
 *
 * The hot routes (session, API, upload, download) are runtime-neutral functions from an `HttpAsk` to an
 * `HttpAnswer`, served two ways with the same octets: by the hono app as web Request/Response (`store.fetch`, and
 * on a socket everything node-http.ts does not take) and by node-http.ts straight on node:http, without building
 * web objects (their construction was a large share of the store's CPU per request). Push stays hono-only.
 */
import { Hono, type Context } from 'hono';
import { createHash } from 'node:crypto';
import type { Repo, UserRow } from './repo.ts';
import type { EmbeddedLimits } from './types.ts';
import type { PushHub } from './push.ts';
import { DATA_TYPES, type DataType } from './changes.ts';
import { CORE, MAIL, QUOTA, handleApiRequest, sessionState } from './jmap/request.ts';
import { BLOB, BLOB_ACCOUNT_CAPABILITY } from './jmap/blob.ts';

export interface HttpDeps { repo: Repo; limits: EmbeddedLimits; bearerTokens: Record<string, string>; push: PushHub; verifyBearer?: (token: string) => Promise<string | null> }

/** One whole HTTP answer: status, headers (lower-case names, in sending order; no content-length), body. */
export interface HttpAnswer { status: number; headers: Record<string, string>; body: string | Uint8Array }

/** What a route reads of a request. */
export interface HttpAsk {
  /** A request header by lower-case name; undefined when absent. */
  header(name: string): string | undefined;
  /** The whole request body, or null when it is longer than `max` octets (then it is not kept). */
  body(max: number): Promise<Uint8Array | null>;
}

/** The hot routes, auth included; a thrown error is the caller's to answer (`serverFail`). */
export interface HotRoutes {
  /** GET of the Session resource; `origin` = scheme and Host header the client used, for its absolute URLs. */
  session(ask: HttpAsk, origin: string): Promise<HttpAnswer>;
  /** POST to the API endpoint (RFC 8620 §3.1). */
  api(ask: HttpAsk): Promise<HttpAnswer>;
  /** POST to the upload endpoint (RFC 8620 §6.1). */
  upload(ask: HttpAsk, accountId: string): Promise<HttpAnswer>;
  /** GET of a download (RFC 8620 §6.2); `type` = the `type` query parameter. */
  download(ask: HttpAsk, accountId: string, blobId: string, name: string, type: string | undefined): Promise<HttpAnswer>;
}

const REALM = 'Basic realm="JMAP", charset="UTF-8"';
const JSON_TYPE = 'application/json';
const PROBLEM_TYPE = 'application/problem+json';
const utf8 = new TextDecoder();

const json = (status: number, value: unknown, type = JSON_TYPE): HttpAnswer =>
  ({ status, headers: { 'content-type': type }, body: JSON.stringify(value) });

/** RFC 7807 problem details with a JMAP error type (RFC 8620 §3.6.1). */
function problem(status: number, type: string, detail: string, extra: Record<string, unknown> = {}): HttpAnswer {
  return json(status, { type: `urn:ietf:params:jmap:error:${type}`, status, detail, ...extra }, PROBLEM_TYPE);
}

/** The answer to a request whose handling threw. */
export const serverFail = (err: unknown): HttpAnswer => problem(500, 'serverFail', err instanceof Error ? err.message : String(err));

const unauthorized = (): HttpAnswer => ({ status: 401, headers: { 'www-authenticate': REALM, 'content-type': PROBLEM_TYPE },
  body: JSON.stringify({ type: 'about:blank', status: 401, detail: 'Authentication required' }) });

const notFound = (): HttpAnswer => ({ status: 404, headers: { 'content-type': 'text/plain; charset=UTF-8' }, body: 'Not Found' });

// Bodies are never backed by a SharedArrayBuffer (strings, SQLite rows, our own reads).
const toResponse = (a: HttpAnswer): Response => new Response(a.body as string | Uint8Array<ArrayBuffer>, { status: a.status, headers: a.headers });

/** The origin clients used, for absolute URLs in the Session (RFC 8620 §2). */
function origin(req: Request): string {
  const url = new URL(req.url);
  const host = req.headers.get('host');
  return host ? `${url.protocol}//${host}` : url.origin;
}

/** An `HttpAsk` over hono's web Request. */
const webAsk = (c: Context): HttpAsk => ({
  header: (name) => c.req.header(name),
  body: async (max) => {
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    return bytes.length > max ? null : bytes;
  },
});

export function buildHttp(deps: HttpDeps): { app: Hono; routes: HotRoutes } {
  const { repo, limits, push } = deps;
  const verified = new Map<string, UserRow>();
  const inFlight = new Map<string, number>();
  const uploads = new Map<string, number>();

  /** Basic (scrypt-verified, cached per credential digest) or Bearer from the static map. */
  const authenticate = async (authorization: string | undefined): Promise<UserRow | undefined> => {
    const h = authorization ?? '';
    const [scheme, value = ''] = h.split(/\s+/, 2) as [string, string?];
    if (scheme?.toLowerCase() === 'bearer') {
      const username = Object.hasOwn(deps.bearerTokens, value) ? deps.bearerTokens[value] : (await deps.verifyBearer?.(value)) ?? undefined;
      return username === undefined ? undefined : repo.user(username);
    }
    if (scheme?.toLowerCase() !== 'basic') return undefined;
    const decoded = new TextDecoder().decode(Uint8Array.from(atob(value.trim() || ''), (c) => c.charCodeAt(0)));
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const key = createHash('sha256').update(decoded).digest('hex');
    const hit = verified.get(key);
    if (hit && repo.user(hit.username)) return hit;
    const user = repo.checkPassword(decoded.slice(0, colon), decoded.slice(colon + 1));
    if (user) verified.set(key, user);
    return user;
  };
  /** The authenticated user, or undefined (a failing check counts as no credentials). */
  const userOf = async (ask: HttpAsk): Promise<UserRow | undefined> => {
    try { return await authenticate(ask.header('authorization')); } catch { return undefined; }
  };
  const withAuth = (handler: (c: Context, user: UserRow) => Response | Promise<Response>) => async (c: Context) => {
    const user = await userOf(webAsk(c));
    return user ? handler(c, user) : toResponse(unauthorized());
  };

  /** An Account object of the Session (RFC 8620 §2). */
  const accountObject = (name: string, isPersonal: boolean, isReadOnly: boolean) => ({ name, isPersonal, isReadOnly,
    accountCapabilities: {
      [CORE]: {},
      [MAIL]: { maxMailboxesPerEmail: null, maxMailboxDepth: null, maxSizeMailboxName: 255,
        maxSizeAttachmentsPerEmail: limits.maxSizeUpload, mayCreateTopLevelMailbox: !isReadOnly,
        emailQuerySortOptions: ['receivedAt', 'size', 'from', 'to', 'subject', 'sentAt', 'hasKeyword',
          'allInThreadHaveKeyword', 'someInThreadHaveKeyword'] },
      [QUOTA]: {},
      [BLOB]: BLOB_ACCOUNT_CAPABILITY,
    } });

  const session = (user: UserRow, base: string): HttpAnswer => {
    const acc = user.account_id;
    return json(200, {
      capabilities: {
        [CORE]: { ...limits, collationAlgorithms: ['i;ascii-casemap', 'i;unicode-casemap'] },
        [MAIL]: {},
        [QUOTA]: {},
        [BLOB]: {},
      },
      accounts: {
        [acc]: accountObject(user.username, true, false),
        // RFC 8620 §2: accounts shared with this user, named by their owner, isPersonal false.
        ...Object.fromEntries(repo.sharedWith(user.username).map((sh) => [sh.account_id, accountObject(sh.owner, false, sh.read_only === 1)])),
      },
      primaryAccounts: { [CORE]: acc, [MAIL]: acc, [QUOTA]: acc, [BLOB]: acc },
      username: user.username,
      apiUrl: `${base}/jmap/api`,
      downloadUrl: `${base}/jmap/download/{accountId}/{blobId}/{name}?type={type}`,
      uploadUrl: `${base}/jmap/upload/{accountId}/`,
      eventSourceUrl: `${base}/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}`,
      state: sessionState(repo, user),
    });
  };

  const api = async (ask: HttpAsk, user: UserRow): Promise<HttpAnswer> => {
    const ct = ask.header('content-type');
    if (ct && !/json/i.test(ct)) return problem(400, 'notJSON', 'The content type of the request was not application/json.');
    const tooLarge = () => problem(400, 'limit', 'The request is larger than the server is willing to process.', { limit: 'maxSizeRequest' });
    if (Number(ask.header('content-length') ?? 0) > limits.maxSizeRequest) return tooLarge();
    const n = inFlight.get(user.account_id) ?? 0;
    if (n >= limits.maxConcurrentRequests) return problem(400, 'limit', 'Too many concurrent requests.', { limit: 'maxConcurrentRequests' });
    inFlight.set(user.account_id, n + 1);
    try {
      const bytes = await ask.body(limits.maxSizeRequest);
      if (!bytes) return tooLarge();
      const r = handleApiRequest(utf8.decode(bytes), repo, user, limits);
      return json(r.status, r.body, r.problem ? PROBLEM_TYPE : JSON_TYPE);
    } finally {
      inFlight.set(user.account_id, (inFlight.get(user.account_id) ?? 1) - 1);
    }
  };

  const upload = async (ask: HttpAsk, user: UserRow, accountId: string): Promise<HttpAnswer> => {
    const access = repo.access(user, accountId);
    if (access === null) return problem(404, 'accountNotFound', 'Unknown account.');
    if (access === 'ro') return problem(403, 'accountReadOnly', 'The account is read-only.');
    const tooBig = () => problem(413, 'limit', 'The upload is larger than maxSizeUpload.', { limit: 'maxSizeUpload' });
    if (Number(ask.header('content-length') ?? 0) > limits.maxSizeUpload) return tooBig();
    const n = uploads.get(accountId) ?? 0;
    if (n >= limits.maxConcurrentUpload) return problem(429, 'limit', 'Too many concurrent uploads.', { limit: 'maxConcurrentUpload' });
    uploads.set(accountId, n + 1);
    try {
      const data = await ask.body(limits.maxSizeUpload);
      if (!data) return tooBig();
      const type = ask.header('content-type') ?? 'application/octet-stream';
      const { blobId, size } = repo.putBlob(accountId, data, type);
      return json(201, { accountId, blobId, type, size });
    } finally {
      uploads.set(accountId, (uploads.get(accountId) ?? 1) - 1);
    }
  };

  const download = (user: UserRow, accountId: string, blobId: string, name: string, type: string | undefined): HttpAnswer => {
    if (repo.access(user, accountId) === null) return notFound();
    const blob = repo.getBlob(accountId, blobId);
    if (!blob) return notFound();
    return { status: 200, headers: { 'content-type': type || blob.type,
      'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`, 'cache-control': 'private, immutable, max-age=31536000' },
    body: blob.data };
  };

  const routes: HotRoutes = {
    session: async (ask, base) => { const user = await userOf(ask); return user ? session(user, base) : unauthorized(); },
    api: async (ask) => { const user = await userOf(ask); return user ? api(ask, user) : unauthorized(); },
    upload: async (ask, accountId) => { const user = await userOf(ask); return user ? upload(ask, user, accountId) : unauthorized(); },
    download: async (ask, accountId, blobId, name, type) => {
      const user = await userOf(ask);
      return user ? download(user, accountId, blobId, name, type) : unauthorized();
    },
  };

  const eventSource = withAuth((c, user) => {
    const typesParam = c.req.query('types') ?? '*';
    const types: DataType[] = typesParam === '*' ? DATA_TYPES : DATA_TYPES.filter((t) => typesParam.split(',').includes(t));
    const closeAfterState = c.req.query('closeafter') === 'state';
    const pingReq = Number(c.req.query('ping') ?? 0);
    // RFC 8620 §7.3: a server may clamp ping, with a minimum of at most 30 s and maximum of at least 300 s.
    const ping = Number.isFinite(pingReq) && pingReq > 0 ? Math.min(Math.max(pingReq, 1), 300) : 0;
    // RFC 8620 §7.1 StateChange: the user's own account and every account shared with it.
    const accountIds = [user.account_id, ...repo.sharedWith(user.username).map((sh) => sh.account_id)];
    /** Event id entries: `type:state` for the own account (as before sharing existed), `account.type:state` else. */
    const key = (a: string, t: DataType) => (a === user.account_id ? t : `${a}.${t}`);
    const states = () => Object.fromEntries(accountIds.flatMap((a) => types.map((t) => [key(a, t), repo.log.stateString(a, t)]))) as Record<string, string>;
    const eventId = (s: Record<string, string>) => Object.entries(s).map(([k, v]) => `${k}:${v}`).join(',');
    const lastEventId = c.req.header('last-event-id');
    let last = states();
    if (lastEventId) {
      const prev = Object.fromEntries(lastEventId.split(',').map((p) => p.split(':') as [string, string]));
      last = Object.fromEntries(Object.keys(last).map((k) => [k, prev[k] ?? ''])) as Record<string, string>;
    }
    const enc = new TextEncoder();
    let cleanup = () => {};
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        let timer: ReturnType<typeof setTimeout> | undefined;
        let closed = false;
        const close = () => {
          if (closed) return;
          closed = true; cleanup();
          try { controller.close(); } catch { /* already closed by the client */ }
        };
        const write = (s: string) => { try { controller.enqueue(enc.encode(s)); } catch { close(); } };
        const schedulePing = () => {
          if (!ping || closed) return;
          clearTimeout(timer);
          timer = setTimeout(() => { write(`event: ping\ndata: ${JSON.stringify({ interval: ping })}\n\n`); schedulePing(); }, ping * 1000);
        };
        const onChange = () => {
          if (closed) return;
          const now = states();
          const changed: Record<string, Record<string, string>> = {};
          for (const a of accountIds) for (const t of types) {
            if (now[key(a, t)] !== last[key(a, t)]) (changed[a] ??= {})[t] = now[key(a, t)]!;
          }
          if (Object.keys(changed).length === 0) return;
          last = now;
          const data = { '@type': 'StateChange', changed };
          write(`event: state\nid: ${eventId(now)}\ndata: ${JSON.stringify(data)}\n\n`);
          schedulePing();
          if (closeAfterState) close();
        };
        const unsubscribes = accountIds.map((a) => push.subscribe(a, onChange));
        const unsubscribe = () => { for (const u of unsubscribes) u(); };
        cleanup = () => { clearTimeout(timer); unsubscribe(); push.closeAll.delete(close); };
        push.closeAll.add(close);
        write(': connected\n\n');
        schedulePing();
        if (lastEventId) queueMicrotask(onChange);
      },
      cancel() { cleanup(); },
    });
    return new Response(stream, { status: 200, headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache',
      'X-Accel-Buffering': 'no' } });
  });

  const app = new Hono();
  const sessionRoute = (c: Context) => routes.session(webAsk(c), origin(c.req.raw)).then(toResponse);
  const apiRoute = (c: Context) => routes.api(webAsk(c)).then(toResponse);
  const uploadRoute = (c: Context) => routes.upload(webAsk(c), c.req.param('accountId') ?? '').then(toResponse);
  app.get('/.well-known/jmap', sessionRoute);
  app.get('/jmap/session', sessionRoute);
  app.post('/jmap/api', apiRoute);
  app.post('/jmap/api/', apiRoute);
  app.post('/jmap/upload/:accountId/', uploadRoute);
  app.post('/jmap/upload/:accountId', uploadRoute);
  app.get('/jmap/download/:accountId/:blobId/:name', (c) => {
    const { accountId, blobId, name } = c.req.param() as { accountId: string; blobId: string; name: string };
    return routes.download(webAsk(c), accountId, blobId, name, c.req.query('type')).then(toResponse);
  });
  app.get('/jmap/eventsource/', eventSource);
  app.get('/jmap/eventsource', eventSource);
  app.notFound(() => toResponse(notFound()));
  app.onError((err) => toResponse(serverFail(err)));
  return { app, routes };
}
