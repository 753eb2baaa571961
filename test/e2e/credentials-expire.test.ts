/**
 * Credentials that stop working mid-session (a bearer token that expired, a password changed elsewhere): the JMAP
 * store answers 401; the command gets NO [AUTHENTICATIONFAILED], nothing is changed, and the session ends with
 * BYE so the client logs in again (IMAP has no re-authentication).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { SIMPLE } from '../fixtures/messages.ts';

let bed: TestBed;
let expired = false;
before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) =>
      expired && String(input).includes('/jmap/api') ? new Response('{"type":"about:blank","status":401}', { status: 401 }) : inner(input, init)) as typeof fetch,
  });
  bed.store.importMessage(bed.user, 'inbox', SIMPLE);
});
after(() => bed.close());

test('a 401 from JMAP after login: NO [AUTHENTICATIONFAILED], nothing stored, then BYE', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('b', 'SELECT INBOX');
  expired = true;
  const r = await c.command('c', 'STORE 1 +FLAGS (\\Flagged)');
  assert.match(r.at(-1)!, /^c NO \[AUTHENTICATIONFAILED\] /);
  assert.match(await c.line(), /^\* BYE \[AUTHENTICATIONFAILED\] /);
  await c.waitClosed();
  expired = false;
  const accountId = await accountIdOf(bed);
  const got = (await jmap(bed, [['Email/query', { accountId }, 'q'], ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['keywords'] }, 'g']]))[1]![1] as { list: Array<{ keywords: Record<string, boolean> }> };
  assert.deepEqual(got.list.map((e) => Object.keys(e.keywords)), [[]], 'the STORE did not happen');
});
