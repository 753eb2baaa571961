/**
 * src/auth/jmap-basic.ts `shareMs`: logins with the same user name and password share one proven JMAP client, so a
 * login costs no request; a different password is never answered from the shared entry (RFC 7617: the store decides
 * credentials); the sharing ends when its time is up or when the store answers 401 through the shared client.
 * Against the embedded JMAP store; the store's "password changed" is simulated by answering 401 from a flag.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { jmapBasicAuthenticator } from '../../src/auth/jmap-basic.ts';
import { ImapError } from '../../src/protocol/errors.ts';

const creds = (password: string) => ({ authzid: '', username: 'ann@example.org', password });
let store: EmbeddedStore;
let server: { url: string; close(): Promise<void> };
let sessionFetches = 0;
let rejectAll = false;
const counting: typeof fetch = async (input, init) => {
  const url = String(input instanceof Request ? input.url : input);
  if (url.includes('/.well-known/jmap') || url.endsWith('/jmap/session')) sessionFetches++;
  if (rejectAll) return new Response('{"type":"about:blank","status":401}', { status: 401 });
  return fetch(input, init);
};

before(async () => {
  store = openEmbeddedStore({ dbPath: ':memory:' });
  store.createUser('ann@example.org', 'right');
  server = await store.listen(0, '127.0.0.1');
});
after(async () => {
  await server.close();
  store.close();
});

test('same credentials share one proven client: the second login makes no request and gets the same account', async () => {
  sessionFetches = 0;
  const auth = jmapBasicAuthenticator({ sessionUrl: `${server.url}/.well-known/jmap`, tenant: 't', fetch: counting, shareMs: 60_000 });
  const a = await auth.login(creds('right'));
  const b = await auth.login(creds('right'));
  assert.equal(sessionFetches, 1);
  assert.equal(a.accountKey, b.accountKey);
  assert.equal(a.backend, b.backend, 'one backend for both sessions');
  await assert.rejects(auth.login(creds('wrong')),
    (e: unknown) => e instanceof ImapError && e.code?.name === 'AUTHENTICATIONFAILED', 'another password is checked by the store');
  assert.equal(sessionFetches, 2);
});

test('without shareMs every login proves its credentials at the store', async () => {
  sessionFetches = 0;
  const auth = jmapBasicAuthenticator({ sessionUrl: `${server.url}/.well-known/jmap`, tenant: 't', fetch: counting });
  const a = await auth.login(creds('right'));
  const b = await auth.login(creds('right'));
  assert.equal(sessionFetches, 2);
  assert.notEqual(a.backend, b.backend);
});

test('the sharing ends after shareMs, and at once when the store answers 401 through the shared client', async () => {
  sessionFetches = 0;
  let clock = 0;
  const auth = jmapBasicAuthenticator({ sessionUrl: `${server.url}/.well-known/jmap`, tenant: 't', fetch: counting, shareMs: 1000, now: () => clock });
  const a = await auth.login(creds('right'));
  clock = 999;
  assert.equal((await auth.login(creds('right'))).backend, a.backend);
  clock = 1000;
  const c = await auth.login(creds('right'));
  assert.notEqual(c.backend, a.backend, 'proven again after shareMs');
  assert.equal(sessionFetches, 2);

  rejectAll = true; // the password was changed at the store
  try {
    await assert.rejects(c.backend.currentStates(), 'the open session is refused by the store');
    await assert.rejects(auth.login(creds('right')),
      (e: unknown) => e instanceof ImapError && e.code?.name === 'AUTHENTICATIONFAILED', 'the old password no longer logs in');
    assert.equal(sessionFetches, 3);
  } finally {
    rejectAll = false;
  }
});
