import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JmapClient, basicAuth, responseOf } from '../../src/backend/jmap/client.ts';
import { JMAP_ERROR_TO_IMAP, jmapError } from '../../src/backend/jmap/errors.ts';
import { BackendError, isCannotCalculateChanges } from '../../src/backend/backend.ts';
import { ImapError } from '../../src/protocol/errors.ts';
import { BASE, FakeServer, apiResponse } from './fake-server.ts';

// Expected codes: RFC 9051 §7.1 / RFC 5530 meaning of each code against the RFC 8620/8621 meaning of each error.
const expected: Array<[string, string]> = [
  ['serverUnavailable', 'UNAVAILABLE'],          // RFC 8620 §3.6.2: temporary, retry later
  ['serverFail', 'SERVERBUG'],
  ['serverPartialFail', 'SERVERBUG'],
  ['forbidden', 'NOPERM'],                       // RFC 5530: no access rights
  ['accountNotFound', 'NOPERM'],
  ['accountReadOnly', 'NOPERM'],
  ['requestTooLarge', 'LIMIT'],
  ['overQuota', 'OVERQUOTA'],                    // RFC 5530 OVERQUOTA
  ['tooLarge', 'TOOBIG'],                        // RFC 9051 §7.1 TOOBIG
  ['notFound', 'NONEXISTENT'],
  ['rateLimit', 'LIMIT'],
  ['stateMismatch', 'INUSE'],
  ['invalidArguments', 'SERVERBUG'],             // our request was wrong, not the user's
  ['invalidProperties', 'SERVERBUG'],
  ['invalidResultReference', 'SERVERBUG'],
  ['unknownMethod', 'SERVERBUG'],
  ['blobNotFound', 'NONEXISTENT'],
  ['alreadyExists', 'ALREADYEXISTS'],
  ['mailboxHasChild', 'HASCHILDREN'],            // RFC 5530 HASCHILDREN
  ['mailboxHasEmail', 'CANNOT'],
  ['urn:ietf:params:jmap:error:limit', 'LIMIT'],
];

test('the JMAP -> IMAP error table gives the response code each error means', () => {
  for (const [type, code] of expected) {
    assert.equal(JMAP_ERROR_TO_IMAP[type]?.code, code, type);
    const err = jmapError(type);
    assert.ok(err instanceof BackendError && err instanceof ImapError);
    assert.equal(err.kind, 'NO', type);
    assert.equal(err.code?.name, code, type);
  }
});

test('request-level errors keep the URN suffix as jmapType; unknown types give a plain NO', () => {
  assert.equal(jmapError('urn:ietf:params:jmap:error:limit').jmapType, 'limit');
  const unknown = jmapError('somethingNew\r\nInjected');
  assert.equal(unknown.kind, 'NO');
  assert.equal(unknown.code, undefined);
  assert.ok(!/[\r\n]/.test(unknown.message), 'status text must stay on one line');
});

test('a method-level error response becomes the mapped BackendError; cannotCalculateChanges is recognisable', async () => {
  const server = new FakeServer((calls) => apiResponse(calls, ([, , id]) => ['error', { type: id === 'c' ? 'cannotCalculateChanges' : 'forbidden' }, id]));
  const c = new JmapClient({ sessionUrl: `${BASE}/.well-known/jmap`, auth: basicAuth('u', 'p'), fetch: server.fetch });
  const r = await c.call([['Email/changes', { sinceState: 'old' }, 'c'], ['Email/set', {}, 's']]);
  assert.throws(() => responseOf(r, 'c', 'Email/changes'), (e) => isCannotCalculateChanges(e));
  assert.throws(() => responseOf(r, 's', 'Email/set'), (e) => e instanceof ImapError && e.code?.name === 'NOPERM');
  await assert.rejects(c.get('Email', ['x']), (e) => e instanceof ImapError && e.code?.name === 'NOPERM');
});
