/**
 * The store's node:http fast path (src/embedded/node-http.ts) against its web path (the hono app served by
 * @hono/node-server, as `listen` did before): the same status line, header fields (names, order, values; Date
 * aside) and body octets for the hot routes, each answer also checked against what RFC 8620 requires of it.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { openEmbeddedStore } from '../../src/embedded/index.ts';
import { hotRoute } from '../../src/embedded/node-http.ts';
import { CORE, MAIL, basic, bytes, crlf, type Json } from './helpers.ts';

const store = openEmbeddedStore({ dbPath: ':memory:', limits: { maxSizeRequest: 2000, maxCallsInRequest: 2, maxSizeUpload: 1000 } });
const { accountId } = store.createUser('alice', 'secret');
const auth = basic('alice', 'secret');
const raw = bytes(crlf('From: a@example.org', 'Subject: fast path', 'Message-ID: <fp@example.org>', '', 'body', ''));
const { blobId } = store.importMessage('alice', 'inbox', raw);

const fast = await store.listen(0);
const webServer = await new Promise<http.Server>((resolve) => {
  const s = serve({ fetch: store.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s as http.Server));
});
const webPort = (webServer.address() as AddressInfo).port;
after(async () => {
  await fast.close();
  await new Promise((r) => webServer.close(r));
  store.close();
});

interface Answer { status: number; head: string[]; body: Buffer }
/** One exchange over a fresh connection; `chunked` sends the body in two chunks without a content-length. */
function exchange(port: number, method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array, chunked = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const h = { host: 'jmap.example:8080', ...headers, ...(body !== undefined && !chunked ? { 'content-length': String(Buffer.byteLength(body)) } : {}) };
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: h, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const head: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i]!.toLowerCase() !== 'date') head.push(`${res.rawHeaders[i]}: ${res.rawHeaders[i + 1]}`);
        resolve({ status: res.statusCode!, head, body: Buffer.concat(chunks) });
      });
    });
    req.on('error', reject);
    if (body !== undefined && chunked) {
      const b = Buffer.from(body);
      req.write(b.subarray(0, b.length >> 1));
      req.end(b.subarray(b.length >> 1));
    } else req.end(body);
  });
}

/** The answer of both paths, asserted equal octet for octet; returned once. */
async function both(method: string, path: string, headers: Record<string, string>, body?: string | Uint8Array, chunked = false): Promise<Answer> {
  const a = await exchange(fast.port, method, path, headers, body, chunked);
  const b = await exchange(webPort, method, path, headers, body, chunked);
  assert.equal(a.status, b.status, `${method} ${path}: status`);
  assert.deepEqual(a.head, b.head, `${method} ${path}: header fields`);
  assert.equal(a.body.toString('latin1'), b.body.toString('latin1'), `${method} ${path}: body`);
  return a;
}
const header = (a: Answer, name: string) => a.head.find((h) => h.toLowerCase().startsWith(`${name}: `))?.slice(name.length + 2);
const json = (a: Answer): Json => JSON.parse(a.body.toString('utf8'));
const apiHeaders = { authorization: auth, 'content-type': 'application/json' };

/** RFC 8620 §3.6.1: a request-level error is a problem details object (RFC 7807) with the JMAP error type. */
function assertProblem(a: Answer, type: string, limit?: string): void {
  assert.equal(a.status, 400);
  assert.equal(header(a, 'content-type'), 'application/problem+json');
  const p = json(a);
  assert.equal(p.type, `urn:ietf:params:jmap:error:${type}`);
  assert.equal(p.status, 400);
  if (limit) assert.equal(p.limit, limit);
}

test('the hot routes are taken by the fast path, everything else by hono', () => {
  assert.deepEqual(hotRoute('POST', '/jmap/api'), { kind: 'api' });
  assert.deepEqual(hotRoute('POST', '/jmap/api/'), { kind: 'api' });
  assert.deepEqual(hotRoute('GET', '/.well-known/jmap'), { kind: 'session' });
  assert.deepEqual(hotRoute('POST', `/jmap/upload/${accountId}/`), { kind: 'upload', accountId });
  assert.deepEqual(hotRoute('GET', `/jmap/download/a1/${blobId}/message.eml?type=message%2Frfc822`),
    { kind: 'download', accountId: 'a1', blobId, name: 'message.eml', type: 'message/rfc822' });
  // Left to hono: push, HEAD, percent-encoded or dot segments, other paths, a type that is no plain header value.
  for (const [m, u] of [['GET', '/jmap/eventsource/?types=*'], ['HEAD', '/jmap/session'], ['GET', '/jmap/download/a1/b/m%20x.eml'],
    ['GET', '/jmap/download/a1/../m.eml'], ['POST', '/jmap/upload/../'], ['GET', '/jmap/api'], ['POST', '/jmap/session'],
    ['GET', '/jmap/download/a1/b/m.eml?type=a%0Ab']] as const) assert.equal(hotRoute(m, u), null, `${m} ${u}`);
});

test('Session GET: same answer, URLs built from the Host the client used (RFC 8620 §2)', async () => {
  for (const path of ['/.well-known/jmap', '/jmap/session']) {
    const a = await both('GET', path, { authorization: auth });
    assert.equal(a.status, 200);
    assert.equal(header(a, 'content-type'), 'application/json');
    const s = json(a);
    assert.equal(s.apiUrl, 'http://jmap.example:8080/jmap/api');
    assert.equal(s.primaryAccounts[MAIL], accountId);
  }
});

test('a good API call: same answer (RFC 8620 §3.3, §3.4; Core/echo returns its arguments, §4)', async () => {
  const a = await both('POST', '/jmap/api', apiHeaders,
    JSON.stringify({ using: [CORE, MAIL], methodCalls: [['Core/echo', { hello: 'wörld' }, 'e'], ['Mailbox/get', { accountId, properties: ['role'] }, 'm']] }));
  assert.equal(a.status, 200);
  assert.equal(header(a, 'content-type'), 'application/json');
  const r = json(a);
  assert.deepEqual(r.methodResponses[0], ['Core/echo', { hello: 'wörld' }, 'e']);
  assert.equal(r.methodResponses[1][0], 'Mailbox/get');
  assert.ok(r.methodResponses[1][1].list.some((m: Json) => m.role === 'inbox'));
  assert.equal(typeof r.sessionState, 'string');
  // The trailing-slash form and a body sent with chunked transfer coding (no content-length) too.
  const echo = JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { n: 1 }, '0']] });
  assert.deepEqual(json(await both('POST', '/jmap/api/', apiHeaders, echo)).methodResponses, [['Core/echo', { n: 1 }, '0']]);
  assert.deepEqual(json(await both('POST', '/jmap/api', apiHeaders, echo, true)).methodResponses, [['Core/echo', { n: 1 }, '0']]);
});

test('bad JSON and a non-JSON content type: notJSON problem (RFC 8620 §3.6.1)', async () => {
  assertProblem(await both('POST', '/jmap/api', apiHeaders, '{not json'), 'notJSON');
  assertProblem(await both('POST', '/jmap/api', { authorization: auth, 'content-type': 'text/plain' }, '{}'), 'notJSON');
  assertProblem(await both('POST', '/jmap/api', apiHeaders, JSON.stringify({ using: [CORE] })), 'notRequest');
});

test('unauthenticated: 401 with a WWW-Authenticate challenge (RFC 9110 §11.6.1), on every hot route', async () => {
  const paths: [string, string, string?][] = [['POST', '/jmap/api', '{}'], ['GET', '/jmap/session'], ['POST', `/jmap/upload/${accountId}/`, 'x'],
    ['GET', `/jmap/download/${accountId}/${blobId}/m.eml`]];
  for (const creds of [{}, { authorization: basic('alice', 'wrong') }, { authorization: 'Bearer nope' }] as Record<string, string>[]) {
    for (const [m, p, body] of paths) {
      const a = await both(m, p, { ...creds, 'content-type': 'application/json' }, body);
      assert.equal(a.status, 401, `${m} ${p}`);
      assert.match(header(a, 'www-authenticate') ?? '', /^Basic realm=/);
    }
  }
});

test('over maxSizeRequest (declared or chunked) and over maxCallsInRequest: limit problems (RFC 8620 §2, §3.6.1)', async () => {
  const big = JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { pad: 'x'.repeat(3000) }, '0']] });
  assertProblem(await both('POST', '/jmap/api', apiHeaders, big), 'limit', 'maxSizeRequest');
  assertProblem(await both('POST', '/jmap/api', apiHeaders, big, true), 'limit', 'maxSizeRequest');
  const three = JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', {}, '0'], ['Core/echo', {}, '1'], ['Core/echo', {}, '2']] });
  assertProblem(await both('POST', '/jmap/api', apiHeaders, three), 'limit', 'maxCallsInRequest');
  // Exactly at the limit is accepted.
  const pad = 2000 - JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { pad: '' }, '0']] }).length;
  const atLimit = JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { pad: 'y'.repeat(pad) }, '0']] });
  assert.equal(Buffer.byteLength(atLimit), 2000);
  assert.equal((await both('POST', '/jmap/api', apiHeaders, atLimit)).status, 200);
});

test('download: the blob\'s exact octets with the requested type (RFC 8620 §6.2); Range ignored alike; 404 when unknown', async () => {
  const a = await both('GET', `/jmap/download/${accountId}/${blobId}/message.eml?type=message%2Frfc822`, { authorization: auth });
  assert.equal(a.status, 200);
  assert.deepEqual(new Uint8Array(a.body), raw);
  assert.equal(header(a, 'content-type'), 'message/rfc822');
  assert.equal(header(a, 'content-length'), String(raw.length));
  assert.equal(header(a, 'content-disposition'), "attachment; filename*=UTF-8''message.eml");
  // RFC 9110 §14.2: a server may ignore Range; both paths send the whole representation with 200.
  const ranged = await both('GET', `/jmap/download/${accountId}/${blobId}/m.eml`, { authorization: auth, range: 'bytes=0-3' });
  assert.equal(ranged.status, 200);
  assert.deepEqual(new Uint8Array(ranged.body), raw);
  assert.equal((await both('GET', `/jmap/download/${accountId}/Gnope/m.eml`, { authorization: auth })).status, 404);
  assert.equal((await both('GET', `/jmap/download/nobody/${blobId}/m.eml`, { authorization: auth })).status, 404);
});

test('upload: 201 with accountId, blobId, type, size (RFC 8620 §6.1), the blob downloadable; limits alike', async () => {
  const data = 'uploaded\r\nbytes\x00\xff';
  const a = await both('POST', `/jmap/upload/${accountId}/`, { authorization: auth, 'content-type': 'application/x-test' }, Buffer.from(data, 'latin1'));
  assert.equal(a.status, 201);
  const u = json(a);
  assert.equal(u.accountId, accountId);
  assert.equal(u.type, 'application/x-test');
  assert.equal(u.size, data.length);
  const dl = await both('GET', `/jmap/download/${accountId}/${u.blobId}/x.bin`, { authorization: auth });
  assert.equal(dl.body.toString('latin1'), data);
  assert.equal(header(dl, 'content-type'), 'application/x-test');
  const chunked = await both('POST', `/jmap/upload/${accountId}`, { authorization: auth }, 'no type given', true);
  assert.equal(chunked.status, 201);
  assert.equal(json(chunked).type, 'application/octet-stream');
  const tooBig = await both('POST', `/jmap/upload/${accountId}/`, { authorization: auth }, 'z'.repeat(1001));
  assert.equal(tooBig.status, 413);
  assert.equal(json(tooBig).limit, 'maxSizeUpload');
  assert.equal((await both('POST', '/jmap/upload/nobody/', { authorization: auth }, 'x')).status, 404);
});

test('the fast path and store.fetch (in-process web path) agree on status, content type and body', async () => {
  const body = JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { k: [1, 'two'] }, '0']] });
  const viaSocket = await exchange(fast.port, 'POST', '/jmap/api', apiHeaders, body);
  const viaFetch = await store.fetch(new Request('http://jmap.example:8080/jmap/api', { method: 'POST', headers: apiHeaders, body }));
  assert.equal(viaSocket.status, viaFetch.status);
  assert.equal(header(viaSocket, 'content-type'), viaFetch.headers.get('content-type'));
  assert.equal(viaSocket.body.toString('utf8'), await viaFetch.text());
});
