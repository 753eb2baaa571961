/**
 * HTTP surface of the embedded JMAP server (hono): Session resource (RFC 8620 §2), API endpoint (§3.1), blob
 * upload/download (§6.1, §6.2) and EventSource push (§7.3). Auth: HTTP Basic or static Bearer tokens.
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

const REALM = 'Basic realm="JMAP", charset="UTF-8"';

function problemResponse(status: number, type: string, detail: string, extra: Record<string, unknown> = {}): Response {
  return new Response(JSON.stringify({ type: `urn:ietf:params:jmap:error:${type}`, status, detail, ...extra }),
    { status, headers: { 'Content-Type': 'application/problem+json' } });
}

/** The origin clients used, for absolute URLs in the Session (RFC 8620 §2). */
function origin(req: Request): string {
  const url = new URL(req.url);
  const host = req.headers.get('host');
  return host ? `${url.protocol}//${host}` : url.origin;
}

export function buildApp(deps: HttpDeps): Hono {
  const { repo, limits, push } = deps;
  const verified = new Map<string, UserRow>();
  const inFlight = new Map<string, number>();
  const uploads = new Map<string, number>();

  /** Basic (scrypt-verified, cached per credential digest) or Bearer from the static map. */
  const authenticate = async (req: Request): Promise<UserRow | undefined> => {
    const h = req.headers.get('authorization') ?? '';
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
  const withAuth = (handler: (c: Context, user: UserRow) => Response | Promise<Response>) => async (c: Context) => {
    let user: UserRow | undefined;
    try { user = await authenticate(c.req.raw); } catch { user = undefined; }
    if (!user) return new Response(JSON.stringify({ type: 'about:blank', status: 401, detail: 'Authentication required' }),
      { status: 401, headers: { 'WWW-Authenticate': REALM, 'Content-Type': 'application/problem+json' } });
    return handler(c, user);
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

  const session = withAuth((c, user) => {
    const base = origin(c.req.raw);
    const acc = user.account_id;
    return c.json({
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
  });

  const api = withAuth(async (c, user) => {
    const ct = c.req.header('content-type');
    if (ct && !/json/i.test(ct)) return problemResponse(400, 'notJSON', 'The content type of the request was not application/json.');
    const declared = Number(c.req.header('content-length') ?? 0);
    if (declared > limits.maxSizeRequest) return problemResponse(400, 'limit', 'The request is larger than the server is willing to process.', { limit: 'maxSizeRequest' });
    const n = inFlight.get(user.account_id) ?? 0;
    if (n >= limits.maxConcurrentRequests) return problemResponse(400, 'limit', 'Too many concurrent requests.', { limit: 'maxConcurrentRequests' });
    inFlight.set(user.account_id, n + 1);
    try {
      const bytes = new Uint8Array(await c.req.arrayBuffer());
      if (bytes.length > limits.maxSizeRequest) return problemResponse(400, 'limit', 'The request is larger than the server is willing to process.', { limit: 'maxSizeRequest' });
      const r = handleApiRequest(new TextDecoder().decode(bytes), repo, user, limits);
      return new Response(JSON.stringify(r.body), { status: r.status,
        headers: { 'Content-Type': r.problem ? 'application/problem+json' : 'application/json' } });
    } finally {
      inFlight.set(user.account_id, (inFlight.get(user.account_id) ?? 1) - 1);
    }
  });

  const upload = withAuth(async (c, user) => {
    const accountId = c.req.param('accountId') ?? '';
    const access = repo.access(user, accountId);
    if (access === null) return problemResponse(404, 'accountNotFound', 'Unknown account.');
    if (access === 'ro') return problemResponse(403, 'accountReadOnly', 'The account is read-only.');
    const declared = Number(c.req.header('content-length') ?? 0);
    const tooBig = () => problemResponse(413, 'limit', 'The upload is larger than maxSizeUpload.', { limit: 'maxSizeUpload' });
    if (declared > limits.maxSizeUpload) return tooBig();
    const n = uploads.get(accountId) ?? 0;
    if (n >= limits.maxConcurrentUpload) return problemResponse(429, 'limit', 'Too many concurrent uploads.', { limit: 'maxConcurrentUpload' });
    uploads.set(accountId, n + 1);
    try {
      const data = new Uint8Array(await c.req.arrayBuffer());
      if (data.length > limits.maxSizeUpload) return tooBig();
      const type = c.req.header('content-type') ?? 'application/octet-stream';
      const { blobId, size } = repo.putBlob(accountId, data, type);
      return c.json({ accountId, blobId, type, size }, 201);
    } finally {
      uploads.set(accountId, (uploads.get(accountId) ?? 1) - 1);
    }
  });

  const download = withAuth((c, user) => {
    const { accountId, blobId, name } = c.req.param() as { accountId: string; blobId: string; name: string };
    if (repo.access(user, accountId) === null) return new Response('Not Found', { status: 404 });
    const blob = repo.getBlob(accountId, blobId);
    if (!blob) return new Response('Not Found', { status: 404 });
    const type = c.req.query('type') || blob.type;
    const safeName = encodeURIComponent(name);
    return new Response(new Uint8Array(blob.data), { status: 200, headers: { 'Content-Type': type,
      'Content-Disposition': `attachment; filename*=UTF-8''${safeName}`, 'Cache-Control': 'private, immutable, max-age=31536000' } });
  });

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
  app.get('/.well-known/jmap', session);
  app.get('/jmap/session', session);
  app.post('/jmap/api', api);
  app.post('/jmap/api/', api);
  app.post('/jmap/upload/:accountId/', upload);
  app.post('/jmap/upload/:accountId', upload);
  app.get('/jmap/download/:accountId/:blobId/:name', download);
  app.get('/jmap/eventsource/', eventSource);
  app.get('/jmap/eventsource', eventSource);
  app.notFound(() => new Response('Not Found', { status: 404 }));
  app.onError((err) => problemResponse(500, 'serverFail', err.message));
  return app;
}
