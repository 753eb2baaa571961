/** The API request envelope (RFC 8620 §3): result references, request- and method-level errors, limits. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, CORE, MAIL, bytes, crlf, fixture } from './helpers.ts';
import { evalPointer } from '../../src/embedded/jmap/request.ts';

const post = (fx: ReturnType<typeof fixture>, body: string, type = 'application/json') =>
  fx.store.fetch(new Request(`${BASE}/jmap/api`, { method: 'POST', headers: { authorization: fx.auth, 'content-type': type }, body }));

test('result references with JSON pointer and * (RFC 8620 §3.7)', async () => {
  const fx = fixture();
  for (let i = 1; i <= 3; i++) fx.store.importMessage('alice', 'inbox', bytes(crlf(`Subject: s${i}`, `Message-ID: <r${i}@x>`, '', 'b', '')));
  const r = await fx.api([
    ['Email/query', { accountId: fx.accountId }, 'q'],
    ['Email/get', { accountId: fx.accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['threadId'] }, 'g'],
    ['Thread/get', { accountId: fx.accountId, '#ids': { resultOf: 'g', name: 'Email/get', path: '/list/*/threadId' } }, 't'],
    ['Email/get', { accountId: fx.accountId, '#ids': { resultOf: 't', name: 'Thread/get', path: '/list/*/emailIds' }, properties: ['subject'] }, 'g2'],
  ]);
  const [q, g, t, g2] = r.methodResponses;
  assert.equal(q[0], 'Email/query');
  assert.equal(g[1].list.length, 3);
  assert.equal(t[1].list.length, 3);
  assert.deepEqual(g2[1].list.map((e: { subject: string }) => e.subject), ['s1', 's2', 's3']); // emailIds arrays flattened
  const bad = await fx.api([
    ['Email/query', { accountId: fx.accountId }, 'q'],
    ['Email/get', { accountId: fx.accountId, '#ids': { resultOf: 'q', name: 'Email/get', path: '/ids' } }, 'x1'],
    ['Email/get', { accountId: fx.accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/nope' } }, 'x2'],
    ['Email/get', { accountId: fx.accountId, ids: [], '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' } }, 'x3'],
  ]);
  assert.deepEqual(bad.methodResponses.slice(1).map((m: [string, { type: string }]) => [m[0], m[1].type]),
    [['error', 'invalidResultReference'], ['error', 'invalidResultReference'], ['error', 'invalidArguments']]);
  assert.deepEqual(evalPointer({ a: [{ b: [1, 2] }, { b: [3] }] }, '/a/*/b'), [1, 2, 3]);
  assert.deepEqual(evalPointer({ 'x/y': { '~': 5 } }, '/x~1y/~0'), 5);
  fx.store.close();
});

test('request-level errors are RFC 7807 problem details (RFC 8620 §3.6.1)', async () => {
  const fx = fixture({ maxCallsInRequest: 2, maxSizeRequest: 2000 });
  const expectProblem = async (res: Response, type: string, limit?: string) => {
    assert.equal(res.status, 400);
    assert.match(res.headers.get('content-type') ?? '', /application\/problem\+json/);
    const p = await res.json();
    assert.equal(p.type, `urn:ietf:params:jmap:error:${type}`);
    assert.equal(p.status, 400);
    if (limit) assert.equal(p.limit, limit);
  };
  await expectProblem(await post(fx, '{not json'), 'notJSON');
  await expectProblem(await post(fx, '{}', 'text/plain'), 'notJSON');
  await expectProblem(await post(fx, JSON.stringify({ using: [CORE] })), 'notRequest');
  await expectProblem(await post(fx, JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', {}]] })), 'notRequest');
  await expectProblem(await post(fx, JSON.stringify({ using: ['https://example.com/apis/foobar'], methodCalls: [] })), 'unknownCapability');
  const three = Array.from({ length: 3 }, (_, i) => ['Core/echo', {}, String(i)]);
  await expectProblem(await post(fx, JSON.stringify({ using: [CORE], methodCalls: three })), 'limit', 'maxCallsInRequest');
  await expectProblem(await post(fx, JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { pad: 'x'.repeat(3000) }, '0']] })), 'limit', 'maxSizeRequest');
  fx.store.close();
});

test('method-level errors (RFC 8620 §3.6.2) and maxObjectsInGet / maxObjectsInSet -> requestTooLarge', async () => {
  const fx = fixture({ maxObjectsInGet: 2, maxObjectsInSet: 2 });
  const r = await fx.api([
    ['Email/bogus', { accountId: fx.accountId }, 'a'],
    ['Mailbox/get', { accountId: 'someone-else' }, 'b'],
    ['Mailbox/get', { accountId: fx.accountId, ids: ['1', '2', '3'] }, 'c'],
    ['Email/set', { accountId: fx.accountId, destroy: ['1', '2', '3'] }, 'd'],
    ['Mailbox/get', { accountId: fx.accountId, ids: 'x' }, 'e'],
    ['Core/echo', { ok: 1 }, 'f'],
  ]);
  assert.deepEqual(r.methodResponses.map((m: [string, { type?: string }, string]) => [m[0], m[1].type, m[2]]), [
    ['error', 'unknownMethod', 'a'], ['error', 'accountNotFound', 'b'], ['error', 'requestTooLarge', 'c'],
    ['error', 'requestTooLarge', 'd'], ['error', 'invalidArguments', 'e'], ['Core/echo', undefined, 'f']]);
  // A method whose capability is not in "using" is unknownMethod.
  const noMail = await fx.api([['Mailbox/get', { accountId: fx.accountId }, 'x']], [CORE]);
  assert.equal(noMail.methodResponses[0][1].type, 'unknownMethod');
  assert.equal(typeof noMail.sessionState, 'string');
  const withIds = await fx.api([['Mailbox/set', { accountId: fx.accountId, create: { n: { name: 'New' } } }, '0']], [CORE, MAIL], { createdIds: {} });
  assert.deepEqual(Object.keys(withIds.createdIds), ['n']);
  fx.store.close();
});
