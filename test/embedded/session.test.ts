/** Session resource (RFC 8620 §2) and authentication of the embedded JMAP store. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openEmbeddedStore } from '../../src/embedded/index.ts';
import { BASE, CORE, MAIL, basic, fixture } from './helpers.ts';

test('session resource has the RFC 8620 §2 shape with absolute URLs from the request host', async () => {
  const fx = fixture({ maxObjectsInGet: 77 });
  for (const path of ['/.well-known/jmap', '/jmap/session']) {
    const res = await fx.store.fetch(new Request(`${BASE}${path}`, { headers: { authorization: fx.auth } }));
    assert.equal(res.status, 200);
    const s = await res.json();
    const core = s.capabilities[CORE];
    for (const k of ['maxSizeUpload', 'maxConcurrentUpload', 'maxSizeRequest', 'maxConcurrentRequests', 'maxCallsInRequest',
      'maxObjectsInGet', 'maxObjectsInSet']) assert.equal(typeof core[k], 'number', k);
    assert.ok(Array.isArray(core.collationAlgorithms));
    assert.equal(core.maxObjectsInGet, 77);
    assert.deepEqual(s.capabilities[MAIL], {}); // RFC 8621 §1.3.1: empty object in the Session capabilities
    assert.equal(s.username, 'alice');
    assert.equal(s.primaryAccounts[MAIL], fx.accountId);
    assert.equal(s.primaryAccounts[CORE], fx.accountId);
    const acc = s.accounts[fx.accountId];
    assert.equal(acc.isPersonal, true);
    assert.equal(acc.isReadOnly, false);
    assert.ok(acc.accountCapabilities[MAIL]);
    assert.equal(s.apiUrl, `${BASE}/jmap/api`);
    assert.equal(s.downloadUrl, `${BASE}/jmap/download/{accountId}/{blobId}/{name}?type={type}`);
    assert.equal(s.uploadUrl, `${BASE}/jmap/upload/{accountId}/`);
    assert.equal(s.eventSourceUrl, `${BASE}/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}`);
    assert.equal(typeof s.state, 'string');
  }
  fx.store.close();
});

test('401 with a Basic challenge without or with wrong credentials; Bearer from the static map works', async () => {
  const store = openEmbeddedStore({ dbPath: ':memory:', bearerTokens: { 'tok-123': 'bob' } });
  store.createUser('bob', 'pw');
  const get = (auth?: string) => store.fetch(new Request(`${BASE}/.well-known/jmap`, auth ? { headers: { authorization: auth } } : {}));
  for (const auth of [undefined, basic('bob', 'wrong'), basic('nobody', 'pw'), 'Bearer nope', 'Basic !!!']) {
    const res = await get(auth);
    assert.equal(res.status, 401, String(auth));
    assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm=/);
  }
  assert.equal((await get(basic('bob', 'pw'))).status, 200);
  const viaToken = await get('Bearer tok-123');
  assert.equal(viaToken.status, 200);
  assert.equal((await viaToken.json()).username, 'bob');
  const api = await store.fetch(new Request(`${BASE}/jmap/api`, { method: 'POST', body: '{}' }));
  assert.equal(api.status, 401);
  store.close();
});

test('createUser makes the standard role mailboxes and hasUser knows who exists', async () => {
  const fx = fixture();
  assert.equal(fx.store.hasUser('alice'), true);
  assert.equal(fx.store.hasUser('mallory'), false);
  const [name, r] = await fx.call('Mailbox/get', { ids: null });
  assert.equal(name, 'Mailbox/get');
  const roles = r.list.map((m: { role: string }) => m.role).sort();
  assert.deepEqual(roles, ['archive', 'drafts', 'inbox', 'junk', 'sent', 'trash']);
  for (const m of r.list) {
    assert.equal(m.parentId, null);
    assert.equal(m.totalEmails, 0);
    assert.equal(typeof m.myRights.mayReadItems, 'boolean');
  }
  fx.store.close();
});

test('the store answers over a real listening port', async () => {
  const store = openEmbeddedStore({ dbPath: ':memory:' });
  store.createUser('carol', 'pw');
  const srv = await store.listen(0);
  try {
    assert.ok(srv.port > 0);
    const res = await fetch(`${srv.url}/.well-known/jmap`, { headers: { authorization: basic('carol', 'pw') } });
    assert.equal(res.status, 200);
    const s = await res.json();
    assert.equal(s.apiUrl, `${srv.url}/jmap/api`);
    const api = await fetch(s.apiUrl, { method: 'POST', headers: { authorization: basic('carol', 'pw'), 'content-type': 'application/json' },
      body: JSON.stringify({ using: [CORE], methodCalls: [['Core/echo', { hello: true }, 'e']] }) });
    assert.deepEqual((await api.json()).methodResponses, [['Core/echo', { hello: true }, 'e']]);
    assert.equal((await fetch(`${srv.url}/.well-known/jmap`)).status, 401);
  } finally {
    await srv.close();
    store.close();
  }
});
