/**
 * Accounts shared between users in the embedded store (RFC 8620 §2): the Session of the user an account is shared
 * with lists it with `isPersonal: false`, named after its owner, `isReadOnly` as granted; every method with its
 * accountId works for that user; a read-only share answers writes with `accountReadOnly` (RFC 8620 §3.6.2) and
 * gives `myRights` with only `mayReadItems` (RFC 8621 §2.1); an account not shared stays `accountNotFound`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, CORE, MAIL, basic, bytes, crlf, fixture, roleId, type Json } from './helpers.ts';

function setup() {
  const fx = fixture();
  fx.store.createUser('bob', 'pw-bob');
  fx.store.createUser('carol', 'pw-carol');
  fx.store.createUser('dave', 'pw-dave');
  fx.store.shareAccount('alice', 'bob');
  fx.store.shareAccount('alice', 'carol', { readOnly: true });
  const raw = bytes(crlf('From: a@example.org', 'Subject: shared one', '', 'hello', ''));
  const { emailId } = fx.store.importMessage('alice', 'inbox', raw);
  const as = (user: string, pw: string) => ({
    session: async (): Promise<Json> => (await fx.store.fetch(new Request(`${BASE}/jmap/session`, { headers: { authorization: basic(user, pw) } }))).json(),
    call: async (name: string, args: object): Promise<Json> => {
      const res = await fx.store.fetch(new Request(`${BASE}/jmap/api`, { method: 'POST', headers: { authorization: basic(user, pw), 'content-type': 'application/json' },
        body: JSON.stringify({ using: [CORE, MAIL], methodCalls: [[name, { accountId: fx.accountId, ...args }, 'c']] }) }));
      return ((await res.json()) as Json).methodResponses[0];
    },
    upload: (data: Uint8Array) => fx.store.fetch(new Request(`${BASE}/jmap/upload/${fx.accountId}/`, { method: 'POST', headers: { authorization: basic(user, pw), 'content-type': 'message/rfc822' }, body: data.slice() })),
  });
  return { fx, emailId, raw, bob: as('bob', 'pw-bob'), carol: as('carol', 'pw-carol'), dave: as('dave', 'pw-dave') };
}

test('the Session lists shared accounts with isPersonal false, the owner\'s name and isReadOnly as granted', async () => {
  const { fx, bob, carol, dave } = setup();
  const sb = await bob.session();
  assert.equal(sb.accounts[fx.accountId].name, 'alice');
  assert.equal(sb.accounts[fx.accountId].isPersonal, false);
  assert.equal(sb.accounts[fx.accountId].isReadOnly, false);
  assert.notEqual(sb.primaryAccounts[MAIL], fx.accountId, 'bob\'s primary account stays his own');
  assert.equal(sb.accounts[sb.primaryAccounts[MAIL]].isPersonal, true);
  const sc = await carol.session();
  assert.equal(sc.accounts[fx.accountId].isReadOnly, true);
  assert.equal(sc.accounts[fx.accountId].accountCapabilities[MAIL].mayCreateTopLevelMailbox, false);
  assert.equal(Object.keys((await dave.session()).accounts).length, 1, 'nothing shared with dave');
  assert.notEqual(sb.state, (await dave.session()).state);
});

test('read-write share: bob reads and writes alice\'s account with full myRights', async () => {
  const { fx, emailId, bob } = setup();
  const [, mb] = await bob.call('Mailbox/get', { ids: null, properties: ['role', 'myRights'] });
  assert.equal(mb.list.find((m: Json) => m.role === 'inbox').myRights.mayAddItems, true);
  const [, got] = await bob.call('Email/get', { ids: [emailId], properties: ['subject'] });
  assert.equal(got.list[0].subject, 'shared one');
  const [name, set] = await bob.call('Email/set', { update: { [emailId]: { 'keywords/$flagged': true } } });
  assert.equal(name, 'Email/set');
  assert.deepEqual(Object.keys(set.updated), [emailId]);
  const [, own] = await fx.call('Email/get', { ids: [emailId], properties: ['keywords'] });
  assert.deepEqual(own.list[0].keywords, { $flagged: true }, 'alice sees bob\'s change');
  const up = await bob.upload(bytes(crlf('Subject: from bob', '', 'x', '')));
  assert.equal(up.status, 201);
  const { blobId } = (await up.json()) as Json;
  const [iname, imp] = await bob.call('Email/import', { emails: { n: { blobId, mailboxIds: { [await roleId(fx, 'inbox')]: true } } } });
  assert.equal(iname, 'Email/import');
  assert.ok(imp.created.n.id);
});

test('read-only share: carol reads; writes are accountReadOnly, uploads 403, myRights read-only', async () => {
  const { fx, emailId, carol } = setup();
  const [, mb] = await carol.call('Mailbox/get', { ids: null, properties: ['role', 'myRights'] });
  assert.deepEqual(mb.list.find((m: Json) => m.role === 'inbox').myRights, { mayReadItems: true, mayAddItems: false, mayRemoveItems: false,
    maySetSeen: false, maySetKeywords: false, mayCreateChild: false, mayRename: false, mayDelete: false, maySubmit: false });
  const [, got] = await carol.call('Email/get', { ids: [emailId], properties: ['subject'] });
  assert.equal(got.list[0].subject, 'shared one');
  const [, q] = await carol.call('Email/query', { filter: { inMailbox: await roleId(fx, 'inbox') } });
  assert.deepEqual(q.ids, [emailId]);
  assert.deepEqual(await carol.call('Email/set', { update: { [emailId]: { 'keywords/$seen': true } } }), ['error', { type: 'accountReadOnly' }, 'c']);
  assert.deepEqual(await carol.call('Mailbox/set', { create: { x: { name: 'x' } } }), ['error', { type: 'accountReadOnly' }, 'c']);
  assert.deepEqual(await carol.call('Email/import', { emails: {} }), ['error', { type: 'accountReadOnly' }, 'c']);
  assert.equal((await carol.upload(bytes('x'))).status, 403);
});

test('an account not shared with the user stays accountNotFound (methods, upload, download)', async () => {
  const { fx, dave } = setup();
  assert.deepEqual(await dave.call('Mailbox/get', { ids: null }), ['error', { type: 'accountNotFound' }, 'c']);
  assert.equal((await dave.upload(bytes('x'))).status, 404);
  const res = await fx.store.fetch(new Request(`${BASE}/jmap/download/${fx.accountId}/Gxyz/m.eml`, { headers: { authorization: basic('dave', 'pw-dave') } }));
  assert.equal(res.status, 404);
});

test('EventSource of the user an account is shared with reports that account\'s changes (RFC 8620 §7.3)', async () => {
  const { fx, raw } = setup();
  const res = await fx.store.fetch(new Request(`${BASE}/jmap/eventsource/?types=Email&closeafter=state&ping=0`, { headers: { authorization: basic('bob', 'pw-bob') } }));
  const reader = res.body!.getReader();
  const dec = new TextDecoder();
  let text = '';
  fx.store.importMessage('alice', 'inbox', raw);
  while (!text.includes('event: state')) {
    const { value, done } = await reader.read();
    if (done) break;
    text += dec.decode(value);
  }
  const data = JSON.parse(/data: (.*)\n/.exec(text.slice(text.indexOf('event: state')))![1]!) as Json;
  assert.deepEqual(Object.keys(data.changed), [fx.accountId]);
  assert.ok(data.changed[fx.accountId].Email);
  await reader.cancel();
  fx.store.close();
});
