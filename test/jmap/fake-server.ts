/**
 * A scripted fake `fetch` for JmapClient tests: records every request and answers through a handler.
 * Not a test file itself (no `.test.ts`).
 */
import type { MethodCall, MethodResponse } from '../../src/backend/jmap/types.ts';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: Headers;
  /** Parsed JSON body for API requests (`{ using, methodCalls }`), else undefined. */
  json?: { using: string[]; methodCalls: MethodCall[] };
  bytes?: Uint8Array;
  signal?: AbortSignal | null;
}

export type Handler = (req: RecordedRequest) => Response | Promise<Response>;

export const BASE = 'https://jmap.example.com';
export const ACCOUNT = 'A1';

export function sessionJson(limits: Record<string, number> = {}, extra: Record<string, unknown> = {}): unknown {
  return {
    capabilities: {
      'urn:ietf:params:jmap:core': {
        maxSizeUpload: 50_000_000, maxConcurrentUpload: 4, maxSizeRequest: 10_000_000, maxConcurrentRequests: 4,
        maxCallsInRequest: 16, maxObjectsInGet: 500, maxObjectsInSet: 500, collationAlgorithms: [], ...limits,
      },
      'urn:ietf:params:jmap:mail': {},
    },
    accounts: { [ACCOUNT]: { name: 'alice', isPersonal: true, isReadOnly: false, accountCapabilities: {} } },
    primaryAccounts: { 'urn:ietf:params:jmap:mail': ACCOUNT },
    username: 'alice',
    apiUrl: `${BASE}/api/`,
    downloadUrl: `${BASE}/download/{accountId}/{blobId}/{name}?accept={type}`,
    uploadUrl: `${BASE}/upload/{accountId}/`,
    eventSourceUrl: `${BASE}/events/`,
    state: 'S1',
    ...extra,
  };
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}

/** An API response body answering each call with `answer(call)`. */
export function apiResponse(calls: MethodCall[], answer: (c: MethodCall) => MethodResponse | MethodResponse[], sessionState = 'S1'): Response {
  return json({ methodResponses: calls.flatMap((c) => { const r = answer(c); return Array.isArray(r[0]) ? (r as MethodResponse[]) : [r as MethodResponse]; }), sessionState });
}

export class FakeServer {
  readonly requests: RecordedRequest[] = [];
  session: unknown;

  constructor(private readonly onApi: (calls: MethodCall[], req: RecordedRequest) => Response | Promise<Response>,
    limits: Record<string, number> = {}, private readonly other?: Handler) {
    this.session = sessionJson(limits);
  }

  readonly fetch = (async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = String(input instanceof Request ? input.url : input);
    const body = init?.body;
    const req: RecordedRequest = {
      method: init?.method ?? 'GET', url, headers: new Headers(init?.headers), signal: init?.signal ?? null,
    };
    if (typeof body === 'string') req.json = JSON.parse(body) as RecordedRequest['json'];
    else if (body instanceof Uint8Array) req.bytes = body;
    this.requests.push(req);
    if (this.other) {
      const r = await this.other(req);
      if (r.status !== 599) return r;
    }
    if (url === `${BASE}/.well-known/jmap`) return json(this.session);
    if (url === `${BASE}/api/` && req.json) return this.onApi(req.json.methodCalls, req);
    return new Response('not found', { status: 404 });
  }) as typeof fetch;

  apiRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.url === `${BASE}/api/`);
  }
}

/** Handler result meaning "not mine, fall through to the default routes". */
export const PASS = (): Response => new Response(null, { status: 599 });
