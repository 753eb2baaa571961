/**
 * JmapClient: one JMAP account connection over HTTP (RFC 8620). It discovers and caches the session (§2), sends
 * method calls (§3) within the session's limits (DESIGN.md rule 12), retries 429/503 with back-off, uploads and
 * downloads blobs (§6), and turns every failure into an `ImapError` (via ./errors.ts). Web-standard APIs only.
 */
import { BackendError } from '../backend.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { JmapAuth } from './auth.ts';
import { JMAP_ERROR_TO_IMAP, jmapError, unavailable } from './errors.ts';
import { referencedCallIds } from './refs.ts';
import { Semaphore } from './semaphore.ts';
import { jmapFetch } from './runtime-fetch.ts';
import { expandTemplate } from './uri-template.ts';
import {
  CORE, MAIL, type CoreLimits, type JmapAccount, type JmapSession, type MethodCall, type MethodResponse,
  type UploadResult,
} from './types.ts';

export { basicAuth, bearerAuth, type JmapAuth } from './auth.ts';

export interface JmapClientOptions {
  /** Session resource URL (RFC 8620 §2.2), e.g. `https://host/.well-known/jmap`; redirects are followed. */
  sessionUrl: string;
  auth: JmapAuth;
  /** Injectable for tests and for workerd. Defaults to the global `fetch` (runtime-fetch.ts `jmapFetch`). */
  fetch?: typeof fetch;
  /** Per HTTP request, including reading the body. Default 30 s. */
  timeoutMs?: number;
  /** Retries after HTTP 429/503 (RFC 6585 §4, RFC 9110 §15.6.4). Default 3. */
  maxRetries?: number;
  /** A `Retry-After` longer than this is not waited for: the request fails at once. Default 30 s. */
  maxRetryDelayMs?: number;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable jitter source in [0, 1) for tests. */
  random?: () => number;
}

/** RFC 8620 §2 suggested minimums, used when a server omits a limit. */
const DEFAULT_LIMITS: CoreLimits = {
  maxSizeUpload: 50_000_000, maxConcurrentUpload: 4, maxSizeRequest: 10_000_000, maxConcurrentRequests: 4,
  maxCallsInRequest: 16, maxObjectsInGet: 500, maxObjectsInSet: 500,
};

const DEFAULT_USING = [CORE, MAIL];
const MAX_REDIRECTS = 5;
const MAX_QUERY_ATTEMPTS = 3;

/** A finished HTTP exchange: status, headers and the whole body (read under the same timeout). */
interface HttpResult {
  status: number;
  headers: Headers;
  body: Uint8Array;
  url: string;
}

/** What an HTTP request is for: decides the response code of some statuses (404 on a download, 413 on upload). */
type Purpose = 'session' | 'api' | 'upload' | 'download';

export class JmapClient {
  /** HTTP requests sent (every attempt, including session fetches, retries, uploads, downloads). */
  requestCount = 0;
  bytesSent = 0;
  bytesReceived = 0;

  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;
  private readonly maxRetries: number;
  private readonly maxRetryDelayMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private sessionPromise: Promise<JmapSession> | undefined;
  private current: JmapSession | undefined;
  private stale = false;
  private readonly apiSlots = new Semaphore(DEFAULT_LIMITS.maxConcurrentRequests);
  private readonly uploadSlots = new Semaphore(DEFAULT_LIMITS.maxConcurrentUpload);

  constructor(private readonly opts: JmapClientOptions) {
    this.fetchFn = opts.fetch ?? jmapFetch; // the global fetch, or the runtime's faster one (runtime-fetch.ts)
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.maxRetries = opts.maxRetries ?? 3;
    this.maxRetryDelayMs = opts.maxRetryDelayMs ?? 30_000;
    this.sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = opts.random ?? Math.random;
  }

  /** The session (RFC 8620 §2), fetched once and cached; re-fetched after a response carried a new sessionState. */
  session(): Promise<JmapSession> {
    if (!this.sessionPromise || this.stale) {
      this.stale = false;
      const p = this.fetchSession();
      this.sessionPromise = p;
      p.then((s) => { this.current = s; }, () => { if (this.sessionPromise === p) this.sessionPromise = undefined; });
    }
    return this.sessionPromise;
  }

  /**
   * Open the push stream (RFC 8620 §7.3 EventSource) for these types, `closeafter=no`, with pings. Resolves to the
   * response body (text/event-stream), or null when the server offers no working push (no eventSourceUrl, or a
   * non-200 answer such as Cyrus's 204): callers then poll. Not counted as an API request: it is one long response.
   */
  async openEventSource(types: string[], pingSeconds: number, signal: AbortSignal): Promise<ReadableStream<Uint8Array> | null> {
    const session = await this.session();
    if (!session.eventSourceUrl) return null;
    const url = new URL(expandTemplate(session.eventSourceUrl, { types: types.join(','), closeafter: 'no', ping: String(pingSeconds) }), session.url).href;
    try {
      const res = await this.fetchFn(url, { headers: { Authorization: await this.opts.auth.header(), Accept: 'text/event-stream' }, signal });
      if (res.status !== 200 || !res.body || !(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
        await res.body?.cancel();
        return null;
      }
      return res.body;
    } catch {
      return null;
    }
  }

  /** The primary account for a capability (RFC 8620 §2 primaryAccounts); mail by default. */
  async accountId(capability: string = MAIL): Promise<string> {
    const id = (await this.session()).primaryAccounts[capability];
    if (!id) throw new BackendError('NO', 'No mail account for this user', 'NOPERM', 'accountNotFound');
    return id;
  }

  /**
   * Send method calls (RFC 8620 §3.3) and return all responses in order, method-level errors included (check them
   * with `responseOf`). Several HTTP requests when the calls exceed `maxCallsInRequest` or `maxSizeRequest`; the
   * split only happens where no result reference (§3.7) crosses it, otherwise `NO [LIMIT]`.
   */
  async call(calls: MethodCall[], using: string[] = DEFAULT_USING): Promise<MethodResponse[]> {
    const session = await this.session();
    const out: MethodResponse[] = [];
    for (const chunk of this.splitCalls(calls, session.limits)) out.push(...(await this.post(chunk, using)));
    return out;
  }

  /**
   * `Type/get` (RFC 8620 §5.1) of ids, chunked by `maxObjectsInGet` and batched into as few requests as
   * `maxCallsInRequest` allows. `ids: null` asks for all (one call). The state is the first chunk's (the oldest),
   * so a later `/changes` from it never misses anything. `using`: the capabilities the request declares.
   */
  async get<T>(
    type: string, ids: string[] | null, properties?: string[], extra: object = {}, using: string[] = DEFAULT_USING,
  ): Promise<{ state: string; list: T[]; notFound: string[] }> {
    const { limits } = await this.session();
    const base = { accountId: await this.accountId(), ...(properties ? { properties } : {}), ...extra };
    const chunks = ids === null ? [null] : chunk(ids, limits.maxObjectsInGet);
    if (chunks.length === 0) return { state: await this.emptyState(type, base), list: [], notFound: [] };
    const calls = chunks.map((c, i): MethodCall => [`${type}/get`, { ...base, ids: c }, `g${i}`]);
    const responses = await this.call(calls, using);
    const result = { state: '', list: [] as T[], notFound: [] as string[] };
    calls.forEach(([, , callId], i) => {
      const args = responseOf(responses, callId, `${type}/get`);
      if (i === 0) result.state = String(args.state ?? '');
      result.list.push(...((args.list as T[] | undefined) ?? []));
      result.notFound.push(...((args.notFound as string[] | null | undefined) ?? []));
    });
    return result;
  }

  /**
   * `Type/query` (RFC 8620 §5.5) read to the end: the first page tells the total and the server's page size, the
   * remaining pages go batched. If the queryState changes between pages the listing restarts (a few times, then
   * `NO [UNAVAILABLE]`). `alongside` calls are sent in the first request, before the query, and their responses
   * returned (e.g. `Email/get {ids: []}` for a state no newer than the listing).
   */
  async queryAll(
    type: string, args: object, opts: { alongside?: MethodCall[] } = {},
  ): Promise<{ ids: string[]; queryState: string; alongside: MethodResponse[] }> {
    const name = `${type}/query`;
    const base: Record<string, unknown> = { accountId: await this.accountId(), ...args, calculateTotal: true };
    const alongside = opts.alongside ?? [];
    for (let attempt = 0; attempt < MAX_QUERY_ATTEMPTS; attempt++) {
      const first = await this.call([...alongside, [name, { ...base, position: 0 }, 'q0']]);
      const head = responseOf(first, 'q0', name);
      const queryState = String(head.queryState ?? '');
      const ids = [...((head.ids as string[] | undefined) ?? [])];
      const pageSize = ids.length;
      const total = typeof head.total === 'number' ? head.total : undefined;
      let consistent = true;
      while (consistent && pageSize > 0 && (total === undefined || ids.length < total)) {
        const positions = total === undefined ? [ids.length] : range(ids.length, total, pageSize);
        const calls = positions.map((p, i): MethodCall => [name, { ...base, position: p, limit: pageSize }, `q${i}`]);
        const responses = await this.call(calls);
        let added = 0;
        for (const [, , callId] of calls) {
          const page = responseOf(responses, callId, name);
          if (String(page.queryState ?? '') !== queryState) { consistent = false; break; }
          const pageIds = (page.ids as string[] | undefined) ?? [];
          ids.push(...pageIds);
          added += pageIds.length;
          if (pageIds.length < pageSize) break; // short page: the end, or pages shifted; continue from here
        }
        if (added === 0) break;
      }
      if (consistent) return { ids, queryState, alongside: first.slice(0, alongside.length) };
    }
    throw unavailable('Mailbox keeps changing, try again');
  }

  /** Upload a blob (RFC 8620 §6.1). `NO [TOOBIG]` above the session's maxSizeUpload. */
  async upload(accountId: string, bytes: Uint8Array, type: string): Promise<UploadResult> {
    const session = await this.session();
    if (bytes.length > session.limits.maxSizeUpload) throw new BackendError('NO', 'Message too large', 'TOOBIG', 'tooLarge');
    const url = new URL(expandTemplate(session.uploadUrl, { accountId }), session.url).href;
    const release = await this.uploadSlots.acquire();
    try {
      const res = await this.http(url, { method: 'POST', body: bytes as Uint8Array<ArrayBuffer> /* BodyInit wants an ArrayBuffer-backed view */, headers: { 'Content-Type': type } }, 'upload');
      const json = parseJson(res.body, 'upload') as Partial<UploadResult>;
      if (typeof json.blobId !== 'string') throw unavailable('Mail store gave an invalid upload response');
      return { blobId: json.blobId, size: Number(json.size ?? bytes.length), type: String(json.type ?? type) };
    } finally {
      release();
    }
  }

  /** Download a blob (RFC 8620 §6.2). `NO [NONEXISTENT]` when the server has no such blob. */
  async download(accountId: string, blobId: string, name = 'blob', type = 'application/octet-stream'): Promise<Uint8Array> {
    const session = await this.session();
    const url = new URL(expandTemplate(session.downloadUrl, { accountId, blobId, name, type }), session.url).href;
    return (await this.http(url, { method: 'GET' }, 'download')).body;
  }

  // --- internals -------------------------------------------------------------------------------------------------

  /** The state of `Type` when there is nothing to get: `Type/get {ids: []}` (RFC 8620 §5.1). */
  private async emptyState(type: string, base: object): Promise<string> {
    const r = await this.call([[`${type}/get`, { ...base, ids: [] }, 'g0']]);
    return String(responseOf(r, 'g0', `${type}/get`).state ?? '');
  }

  private async fetchSession(): Promise<JmapSession> {
    const res = await this.http(this.opts.sessionUrl, { method: 'GET', headers: { Accept: 'application/json' } }, 'session');
    return parseSession(parseJson(res.body, 'session'), res.url);
  }

  /** One API request (RFC 8620 §3.3), under the concurrency limit; notes a changed sessionState. */
  private async post(calls: MethodCall[], using: string[]): Promise<MethodResponse[]> {
    const session = await this.session();
    this.apiSlots.limit = session.limits.maxConcurrentRequests;
    const release = await this.apiSlots.acquire();
    let res: HttpResult;
    try {
      const body = JSON.stringify({ using, methodCalls: calls });
      res = await this.http(session.apiUrl, { method: 'POST', body, headers: { 'Content-Type': 'application/json' } }, 'api');
    } finally {
      release();
    }
    const json = parseJson(res.body, 'api') as { methodResponses?: unknown; sessionState?: unknown };
    if (!Array.isArray(json.methodResponses)) throw unavailable('Mail store gave an invalid response');
    if (typeof json.sessionState === 'string' && this.current && json.sessionState !== this.current.state) this.stale = true;
    return json.methodResponses as MethodResponse[];
  }

  /**
   * Group calls into requests: at most `maxCallsInRequest` each and under `maxSizeRequest` bytes, cutting only
   * where no later call refers back across the cut.
   */
  private splitCalls(calls: MethodCall[], limits: CoreLimits): MethodCall[][] {
    // The usual case at no cost: few calls whose JSON is surely under the limit (a UTF-16 unit is <= 3 UTF-8 octets).
    if (calls.length <= limits.maxCallsInRequest
      && JSON.stringify({ using: DEFAULT_USING, methodCalls: calls }).length * 3 + 256 <= limits.maxSizeRequest) return [calls];
    const segments = segmentsByReferences(calls);
    const out: MethodCall[][] = [];
    let cur: MethodCall[] = [];
    const fits = (c: MethodCall[]) => c.length <= limits.maxCallsInRequest && requestSize(c) <= limits.maxSizeRequest;
    for (const seg of segments) {
      if (!fits(seg)) throw new BackendError('NO', 'Request exceeds the mail store limits', 'LIMIT', 'limit');
      if (cur.length > 0 && !fits([...cur, ...seg])) { out.push(cur); cur = []; }
      cur.push(...seg);
    }
    if (cur.length > 0) out.push(cur);
    return out;
  }

  /**
   * One HTTP exchange with timeout, redirects (auth kept only for same-origin or https targets, never on a
   * downgrade), and back-off on 429/503. Maps failures to ImapErrors; returns only 2xx results.
   */
  private async http(url: string, init: RequestInit, purpose: Purpose): Promise<HttpResult> {
    for (let attempt = 0; ; attempt++) {
      const res = await this.exchange(url, init, purpose);
      if (res.status !== 429 && res.status !== 503) return checkStatus(res, purpose);
      const delay = retryAfterMs(res.headers.get('retry-after')) ?? this.backoffMs(attempt);
      if (attempt >= this.maxRetries || delay > this.maxRetryDelayMs) {
        throw unavailable(res.status === 429 ? 'Mail store is rate limiting, try later' : 'Mail store temporarily unavailable');
      }
      await this.sleep(delay);
    }
  }

  /** Fetch (following redirects by hand) and read the whole body within `timeoutMs`. */
  private async exchange(url: string, init: RequestInit, purpose: Purpose): Promise<HttpResult> {
    const ctl = new AbortController();
    const timer = setTimeout(() => ctl.abort(), this.timeoutMs);
    const authValue = await this.opts.auth.header();
    try {
      let target = url;
      let withAuth = true;
      for (let hop = 0; ; hop++) {
        const headers = new Headers(init.headers);
        if (withAuth) headers.set('Authorization', authValue);
        this.requestCount++;
        this.bytesSent += bodyLength(init.body);
        const res = await this.fetchFn(target, { ...init, headers, signal: ctl.signal, redirect: 'manual' });
        const location = res.headers.get('location');
        if (res.status >= 300 && res.status < 400 && location && hop < MAX_REDIRECTS) {
          await res.body?.cancel().catch(() => undefined);
          const next = new URL(location, target);
          const prev = new URL(target);
          if (prev.protocol === 'https:' && next.protocol !== 'https:') throw unavailable(`Mail store ${purpose} redirect refused`);
          withAuth = withAuth && (next.origin === prev.origin || next.protocol === 'https:');
          target = next.href;
          continue;
        }
        const body = new Uint8Array(await res.arrayBuffer());
        this.bytesReceived += body.length;
        return { status: res.status, headers: res.headers, body, url: res.url || target };
      }
    } catch (err) {
      if (err instanceof ImapError) throw err;
      throw unavailable(ctl.signal.aborted ? `Mail store ${purpose} request timed out` : `Mail store ${purpose} unreachable`);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Exponential back-off with jitter: 250 ms · 2^attempt · [0.5, 1). */
  private backoffMs(attempt: number): number {
    return Math.round(250 * 2 ** attempt * (0.5 + this.random() / 2));
  }
}

/**
 * The arguments of the response to `callId` named `name`; throws the mapped BackendError for a method-level error
 * (RFC 8620 §3.6.2) and `NO [SERVERBUG]` when the response is missing or of another name.
 */
export function responseOf(responses: MethodResponse[], callId: string, name: string): Record<string, unknown> {
  const r = responses.find((x) => x[2] === callId);
  if (!r) throw new BackendError('NO', 'Mail store response missing', 'SERVERBUG', 'missingResponse');
  if (r[0] === 'error') throw jmapError(String(r[1]?.type ?? 'serverFail'));
  if (r[0] !== name) throw new BackendError('NO', 'Mail store gave an unexpected response', 'SERVERBUG', 'unexpectedResponse');
  return r[1] ?? {};
}

/** Parse the session resource (RFC 8620 §2), resolving URLs against where it was served from. */
export function parseSession(raw: unknown, url: string): JmapSession {
  const s = (raw ?? {}) as Partial<Record<keyof JmapSession, unknown>>;
  if (typeof s.apiUrl !== 'string' || !s.capabilities || typeof s.capabilities !== 'object') {
    throw unavailable('Mail store gave an invalid session');
  }
  const capabilities = s.capabilities as Record<string, unknown>;
  const core = (capabilities[CORE] ?? {}) as Record<string, unknown>;
  const limits = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(DEFAULT_LIMITS) as Array<keyof CoreLimits>) {
    const v = core[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 1) limits[k] = Math.floor(v);
  }
  const abs = (u: unknown) => (typeof u === 'string' && u ? new URL(u, url).href : '');
  return {
    capabilities,
    accounts: (s.accounts ?? {}) as Record<string, JmapAccount>,
    primaryAccounts: (s.primaryAccounts ?? {}) as Record<string, string>,
    username: String(s.username ?? ''),
    apiUrl: abs(s.apiUrl),
    // Templates: braces must survive, so they are resolved only after expansion (see upload/download).
    downloadUrl: String(s.downloadUrl ?? ''),
    uploadUrl: String(s.uploadUrl ?? ''),
    eventSourceUrl: typeof s.eventSourceUrl === 'string' ? s.eventSourceUrl : '',
    state: String(s.state ?? ''),
    limits,
    url,
  };
}

/** Turn a non-2xx result into the ImapError it means. */
function checkStatus(res: HttpResult, purpose: Purpose): HttpResult {
  const st = res.status;
  if (st >= 200 && st < 300) return res;
  if (st === 401) throw new BackendError('NO', 'Mail store rejected the credentials', 'AUTHENTICATIONFAILED', 'http401');
  if (st === 403) throw new BackendError('NO', 'Mail store denied access', 'NOPERM', 'http403');
  if (st === 404 && purpose === 'download') throw new BackendError('NO', 'Message data not found', 'NONEXISTENT', 'blobNotFound');
  if (st === 413) {
    if (purpose === 'upload') throw new BackendError('NO', 'Message too large', 'TOOBIG', 'tooLarge');
    throw jmapError('urn:ietf:params:jmap:error:limit');
  }
  if (st >= 400 && st < 500) {
    // RFC 8620 §3.6.1: request-level errors are RFC 7807 problem details with a JMAP type URN.
    let type: unknown;
    try { type = (JSON.parse(new TextDecoder().decode(res.body)) as { type?: unknown }).type; } catch { type = undefined; }
    if (typeof type === 'string' && JMAP_ERROR_TO_IMAP[type]) throw jmapError(type);
    throw new BackendError('NO', `Mail store refused the ${purpose} request`, 'SERVERBUG', `http${st}`);
  }
  throw unavailable(`Mail store ${purpose} failed (HTTP ${st})`);
}

function parseJson(body: Uint8Array, purpose: Purpose): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(body));
  } catch {
    throw unavailable(`Mail store gave a non-JSON ${purpose} response`);
  }
}

/** RFC 9110 §10.2.3 Retry-After: delay-seconds or an HTTP-date. Undefined when absent or unparsable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/**
 * Cut points: a segment ends where no later call refers to a call inside it or before it (RFC 8620 §3.7
 * references resolve only within one request).
 */
function segmentsByReferences(calls: MethodCall[]): MethodCall[][] {
  const firstIndex = new Map<string, number>();
  calls.forEach(([, , id], i) => { if (!firstIndex.has(id)) firstIndex.set(id, i); });
  // earliest[i] = the smallest index that calls i.. refer back to
  const earliest = calls.map(([, args], i) =>
    Math.min(i, ...referencedCallIds(args).map((id) => firstIndex.get(id) ?? i)));
  for (let i = calls.length - 2; i >= 0; i--) earliest[i] = Math.min(earliest[i]!, earliest[i + 1]!);
  const segments: MethodCall[][] = [];
  let start = 0;
  for (let i = 1; i <= calls.length; i++) {
    if (i === calls.length || earliest[i]! >= i) { segments.push(calls.slice(start, i)); start = i; }
  }
  return segments;
}

function requestSize(calls: MethodCall[]): number {
  return new TextEncoder().encode(JSON.stringify({ using: DEFAULT_USING, methodCalls: calls })).length + 256;
}

function bodyLength(body: RequestInit['body']): number {
  if (typeof body === 'string') return new TextEncoder().encode(body).length;
  if (body instanceof Uint8Array) return body.length;
  return 0;
}

export function chunk<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += Math.max(1, size)) out.push(items.slice(i, i + Math.max(1, size)));
  return out;
}

function range(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let p = from; p < to; p += step) out.push(p);
  return out;
}
