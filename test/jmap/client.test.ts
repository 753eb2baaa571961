import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JmapClient, basicAuth, bearerAuth, retryAfterMs } from '../../src/backend/jmap/client.ts';
import { ref, refArg } from '../../src/backend/jmap/refs.ts';
import { expandTemplate } from '../../src/backend/jmap/uri-template.ts';
import { ImapError } from '../../src/protocol/errors.ts';
import type { MethodCall } from '../../src/backend/jmap/types.ts';
import { ACCOUNT, BASE, FakeServer, PASS, apiResponse, json, sessionJson } from './fake-server.ts';

const auth = basicAuth('alice', 's3cret-pw');

/** Echo server: each call answered with its own name and an `echo` of its args. */
function echo(calls: MethodCall[]): Response {
  return apiResponse(calls, ([name, args, id]) => [name, { echo: args }, id]);
}

function client(server: FakeServer, extra: Partial<ConstructorParameters<typeof JmapClient>[0]> = {}): JmapClient {
  return new JmapClient({ sessionUrl: `${BASE}/.well-known/jmap`, auth, fetch: server.fetch, ...extra });
}

function isImapNo(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof ImapError, `expected ImapError, got ${String(err)}`);
    assert.equal(err.kind, 'NO');
    assert.equal(err.code?.name, code);
    assert.ok(!err.message.includes('s3cret'), 'error text must not leak the password');
    return true;
  };
}

test('basicAuth encodes user:pass as UTF-8 base64 (RFC 7617 §2.1 example "test:123£")', async () => {
  assert.equal(await basicAuth('test', '123£').header(), 'Basic dGVzdDoxMjPCow==');
  assert.equal(await bearerAuth('tok').header(), 'Bearer tok');
  assert.equal(await bearerAuth(async () => 'fresh').header(), 'Bearer fresh');
});

test('URI template level 1 percent-encodes everything but unreserved characters (RFC 6570 §3.2.2)', () => {
  assert.equal(expandTemplate('/d/{accountId}/{blobId}/{name}?type={type}', {
    accountId: 'A 1', blobId: 'b/1', name: "it's (1).eml", type: 'message/rfc822',
  }), "/d/A%201/b%2F1/it%27s%20%281%29.eml?type=message%2Frfc822");
});

test('session discovery follows a redirect, keeps auth, resolves relative URLs and reads the limits', async () => {
  const server = new FakeServer(echo, {}, (req) => {
    if (req.url === `${BASE}/.well-known/jmap`) return new Response(null, { status: 307, headers: { Location: '/jmap/session' } });
    if (req.url === `${BASE}/jmap/session`) {
      return json({
        ...(sessionJson() as object),
        capabilities: {
          'urn:ietf:params:jmap:core': { maxCallsInRequest: 7, maxObjectsInGet: 9, maxSizeRequest: 12345 },
          'urn:ietf:params:jmap:mail': {},
        },
        apiUrl: '/jmap/api/', uploadUrl: '/jmap/upload/{accountId}/', downloadUrl: 'dl/{accountId}/{blobId}?n={name}',
      });
    }
    return PASS();
  });
  const c = client(server);
  const s = await c.session();
  assert.equal(s.apiUrl, `${BASE}/jmap/api/`);
  assert.equal(s.limits.maxCallsInRequest, 7);
  assert.equal(s.limits.maxObjectsInGet, 9);
  assert.equal(s.limits.maxSizeRequest, 12345);
  // omitted limits take the RFC 8620 §2 suggested minimums
  assert.equal(s.limits.maxObjectsInSet, 500);
  assert.equal(s.limits.maxConcurrentRequests, 4);
  assert.equal(await c.accountId(), ACCOUNT);
  assert.equal(server.requests.length, 2);
  for (const r of server.requests) assert.equal(r.headers.get('authorization'), 'Basic YWxpY2U6czNjcmV0LXB3');
  // cached: no further request
  await c.session();
  assert.equal(c.requestCount, 2);
});

test('download and upload expand the session URL templates', async () => {
  const server = new FakeServer(echo, {}, (req) => {
    if (req.url.startsWith(`${BASE}/download/`)) return new Response(new Uint8Array([1, 2, 3]));
    if (req.url === `${BASE}/upload/A1/`) return json({ accountId: 'A1', blobId: 'B9', type: 'message/rfc822', size: 3 }, 201);
    return PASS();
  });
  const c = client(server);
  const bytes = await c.download(ACCOUNT, 'G/1', 'message.eml', 'message/rfc822');
  assert.deepEqual([...bytes], [1, 2, 3]);
  assert.equal(server.requests.at(-1)!.url, `${BASE}/download/A1/G%2F1/message.eml?accept=message%2Frfc822`);
  const up = await c.upload(ACCOUNT, new Uint8Array([7, 8, 9]), 'message/rfc822');
  assert.deepEqual(up, { blobId: 'B9', size: 3, type: 'message/rfc822' });
  const last = server.requests.at(-1)!;
  assert.equal(last.method, 'POST');
  assert.equal(last.headers.get('content-type'), 'message/rfc822');
  assert.deepEqual([...last.bytes!], [7, 8, 9]);
});

test('upload above maxSizeUpload is refused locally with NO [TOOBIG]', async () => {
  const server = new FakeServer(echo, { maxSizeUpload: 2 });
  await assert.rejects(client(server).upload(ACCOUNT, new Uint8Array(3), 'message/rfc822'), isImapNo('TOOBIG'));
  assert.equal(server.requests.filter((r) => r.url.includes('/upload/')).length, 0);
});

test('call splits into requests of at most maxCallsInRequest calls, in order', async () => {
  const server = new FakeServer(echo, { maxCallsInRequest: 2 });
  const calls: MethodCall[] = [1, 2, 3, 4, 5].map((n) => ['Core/echo', { n }, `c${n}`]);
  const out = await client(server).call(calls);
  assert.deepEqual(out.map((r) => r[2]), ['c1', 'c2', 'c3', 'c4', 'c5']);
  assert.deepEqual(server.apiRequests().map((r) => r.json!.methodCalls.length), [2, 2, 1]);
});

test('call never splits a result reference from the call it refers to (RFC 8620 §3.7)', async () => {
  const server = new FakeServer(echo, { maxCallsInRequest: 2 });
  const calls: MethodCall[] = [
    ['Core/echo', {}, 'a'],
    ['Email/query', {}, 'q'],
    ['Email/get', refArg('ids', ref('q', 'Email/query', '/ids')), 'g'],
    ['Core/echo', {}, 'z'],
  ];
  await client(server).call(calls);
  assert.deepEqual(server.apiRequests().map((r) => r.json!.methodCalls.map((c) => c[2])), [['a'], ['q', 'g'], ['z']]);
});

test('call refuses with NO [LIMIT] when referencing calls cannot fit in one request', async () => {
  const server = new FakeServer(echo, { maxCallsInRequest: 2 });
  const calls: MethodCall[] = [
    ['A/x', {}, 'a'], ['B/x', refArg('ids', ref('a', 'A/x', '/ids')), 'b'], ['C/x', refArg('ids', ref('a', 'A/x', '/ids')), 'c'],
  ];
  await assert.rejects(client(server).call(calls), isImapNo('LIMIT'));
  assert.equal(server.apiRequests().length, 0);
});

test('call splits by maxSizeRequest too', async () => {
  const server = new FakeServer(echo, { maxSizeRequest: 2000 });
  const big = 'x'.repeat(700);
  const calls: MethodCall[] = [1, 2, 3, 4].map((n) => ['Core/echo', { big }, `c${n}`]);
  await client(server).call(calls);
  const reqs = server.apiRequests();
  assert.ok(reqs.length >= 2, `expected a split, got ${reqs.length} request(s)`);
  assert.equal(reqs.flatMap((r) => r.json!.methodCalls).length, 4);
  // every request the server saw respects its limit
  for (const r of reqs) assert.ok(JSON.stringify(r.json).length <= 2000);
});

test('get chunks ids by maxObjectsInGet and batches chunks by maxCallsInRequest', async () => {
  const server = new FakeServer((calls) => apiResponse(calls, ([, args, id]) => {
    const ids = args.ids as string[];
    return ['Email/get', { accountId: ACCOUNT, state: `st-${id}`, list: ids.filter((x) => x !== 'e7').map((x) => ({ id: x })), notFound: ids.includes('e7') ? ['e7'] : [] }, id];
  }), { maxObjectsInGet: 3, maxCallsInRequest: 2 });
  const ids = Array.from({ length: 10 }, (_, i) => `e${i}`);
  const c = client(server);
  const res = await c.get<{ id: string }>('Email', ids, ['id']);
  assert.deepEqual(res.list.map((e) => e.id), ids.filter((x) => x !== 'e7'));
  assert.deepEqual(res.notFound, ['e7']);
  assert.equal(res.state, 'st-g0');
  // 10 ids / 3 per get = 4 gets; 2 gets per request = 2 API requests
  const api = server.apiRequests();
  assert.equal(api.length, 2);
  for (const r of api) for (const [, args] of r.json!.methodCalls) assert.ok((args.ids as string[]).length <= 3);
  assert.equal(c.requestCount, 3); // session + 2
});

test('queryAll reads every page: first page, then the remaining pages batched', async () => {
  const all = Array.from({ length: 8 }, (_, i) => `m${i}`);
  const server = new FakeServer((calls) => apiResponse(calls, ([name, args, id]) => {
    const pos = (args.position as number) ?? 0;
    return [name, { queryState: 'Q1', ids: all.slice(pos, pos + 3), position: pos, total: all.length, canCalculateChanges: true }, id];
  }));
  const c = client(server);
  const res = await c.queryAll('Email', { filter: { inMailbox: 'INBOX' } });
  assert.deepEqual(res.ids, all);
  assert.equal(res.queryState, 'Q1');
  const api = server.apiRequests();
  assert.equal(api.length, 2);
  assert.deepEqual(api[1]!.json!.methodCalls.map((c) => c[1].position), [3, 6]);
  assert.deepEqual((api[0]!.json!.methodCalls[0]![1] as { filter: unknown }).filter, { inMailbox: 'INBOX' });
});

test('queryAll without total pages until an empty page', async () => {
  const all = ['a', 'b', 'c', 'd', 'e'];
  const server = new FakeServer((calls) => apiResponse(calls, ([name, args, id]) => {
    const pos = (args.position as number) ?? 0;
    return [name, { queryState: 'Q', ids: all.slice(pos, pos + 2), position: pos }, id];
  }));
  assert.deepEqual((await client(server).queryAll('Email', {})).ids, all);
});

test('queryAll restarts when the queryState changes between pages', async () => {
  let round = 0;
  const server = new FakeServer((calls) => {
    round++;
    return apiResponse(calls, ([name, args, id]) => {
      const pos = (args.position as number) ?? 0;
      // round 2 (the second page of attempt 1) reports a newer state: the listing must restart
      const qs = round === 2 ? 'Q2' : round >= 3 ? 'Q3' : 'Q1';
      return [name, { queryState: qs, ids: ['a', 'b', 'c', 'd'].slice(pos, pos + 2), position: pos, total: 4 }, id];
    });
  });
  const res = await client(server).queryAll('Email', {});
  assert.deepEqual(res.ids, ['a', 'b', 'c', 'd']);
  assert.equal(res.queryState, 'Q3');
  assert.equal(server.apiRequests().length, 4);
});

test('429 with Retry-After (seconds) waits that long, then succeeds', async () => {
  let n = 0;
  const server = new FakeServer((calls) => (++n === 1 ? new Response('slow down', { status: 429, headers: { 'Retry-After': '2' } }) : echo(calls)));
  const slept: number[] = [];
  const c = client(server, { sleep: async (ms) => { slept.push(ms); } });
  const out = await c.call([['Core/echo', {}, 'x']]);
  assert.equal(out[0]![2], 'x');
  assert.deepEqual(slept, [2000]);
  assert.equal(server.apiRequests().length, 2);
});

test('Retry-After as an HTTP-date (RFC 9110 §10.2.3)', () => {
  const now = Date.parse('Sun, 06 Nov 1994 08:49:37 GMT');
  assert.equal(retryAfterMs('Sun, 06 Nov 1994 08:49:40 GMT', now), 3000);
  assert.equal(retryAfterMs('120', now), 120_000);
  assert.equal(retryAfterMs(null, now), undefined);
});

test('503 without Retry-After backs off exponentially and gives NO [UNAVAILABLE] once retries are exhausted', async () => {
  const server = new FakeServer(() => new Response('busy', { status: 503 }));
  const slept: number[] = [];
  const c = client(server, { maxRetries: 2, sleep: async (ms) => { slept.push(ms); }, random: () => 0.5 });
  await assert.rejects(c.call([['Core/echo', {}, 'x']]), isImapNo('UNAVAILABLE'));
  assert.equal(server.apiRequests().length, 3);
  assert.equal(slept.length, 2);
  assert.ok(slept[1]! > slept[0]!, `second delay ${slept[1]} should exceed the first ${slept[0]}`);
});

test('a request that does not answer within timeoutMs gives NO [UNAVAILABLE]', async () => {
  const server = new FakeServer((_calls, req) => new Promise<Response>((_resolve, reject) => {
    req.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  }));
  const c = client(server, { timeoutMs: 30 });
  await c.session();
  const t0 = Date.now();
  await assert.rejects(c.call([['Core/echo', {}, 'x']]), isImapNo('UNAVAILABLE'));
  assert.ok(Date.now() - t0 < 2000);
});

test('a network error gives NO [UNAVAILABLE] without credentials in the text', async () => {
  const failing = (async () => { throw new TypeError('fetch failed: connect ECONNREFUSED alice:s3cret-pw@host'); }) as typeof fetch;
  const c = new JmapClient({ sessionUrl: `${BASE}/.well-known/jmap`, auth, fetch: failing });
  await assert.rejects(c.session(), isImapNo('UNAVAILABLE'));
});

test('HTTP status mapping: 401, 403, 500, non-JSON, request-level limit problem', async () => {
  const cases: Array<[Response, string]> = [
    [new Response('no', { status: 401 }), 'AUTHENTICATIONFAILED'],
    [new Response('no', { status: 403 }), 'NOPERM'],
    [new Response('oops', { status: 500 }), 'UNAVAILABLE'],
    [new Response('<html>proxy</html>', { status: 200 }), 'UNAVAILABLE'],
    [json({ type: 'urn:ietf:params:jmap:error:limit', limit: 'maxSizeRequest', status: 400 }, 400), 'LIMIT'],
    [json({ type: 'urn:ietf:params:jmap:error:notRequest', status: 400 }, 400), 'SERVERBUG'],
  ];
  for (const [res, code] of cases) {
    const server = new FakeServer(() => res.clone());
    await assert.rejects(client(server).call([['Core/echo', {}, 'x']]), isImapNo(code), code);
  }
});

test('a response with a new sessionState makes the next call re-fetch the session (RFC 8620 §3.4)', async () => {
  let state = 'S1';
  const server = new FakeServer((calls) => apiResponse(calls, ([n, a, id]) => [n, a, id], state));
  const c = client(server);
  await c.call([['Core/echo', {}, 'a']]);
  await c.call([['Core/echo', {}, 'b']]);
  const sessionFetches = () => server.requests.filter((r) => r.url.endsWith('/.well-known/jmap')).length;
  assert.equal(sessionFetches(), 1);
  state = 'S2';
  server.session = sessionJson({}, { state: 'S2' });
  await c.call([['Core/echo', {}, 'c']]);
  assert.equal(sessionFetches(), 1);
  await c.call([['Core/echo', {}, 'd']]);
  assert.equal(sessionFetches(), 2);
  await c.call([['Core/echo', {}, 'e']]);
  assert.equal(sessionFetches(), 2);
});

test('maxConcurrentRequests bounds the API requests in flight', async () => {
  let inFlight = 0;
  let peak = 0;
  const server = new FakeServer(async (calls) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise((r) => setTimeout(r, 5));
    inFlight--;
    return echo(calls);
  }, { maxConcurrentRequests: 2 });
  const c = client(server);
  await Promise.all(Array.from({ length: 6 }, (_, i) => c.call([['Core/echo', {}, `c${i}`]])));
  assert.equal(peak, 2);
});

test('counters track requests and bytes', async () => {
  const server = new FakeServer(echo);
  const c = client(server);
  await c.call([['Core/echo', { hello: 'world' }, 'x']]);
  assert.equal(c.requestCount, 2);
  assert.ok(c.bytesSent > 0);
  assert.ok(c.bytesReceived > 0);
});
