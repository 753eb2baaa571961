/**
 * Integration: JmapClient + JmapBackend against the embedded JMAP store (src/embedded), in-process and over TCP.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { JmapClient, basicAuth } from '../../src/backend/jmap/client.ts';
import { JmapBackend } from '../../src/backend/jmap/backend.ts';
import { isCannotCalculateChanges } from '../../src/backend/backend.ts';
import { ImapError } from '../../src/protocol/errors.ts';
import type { EmbeddedStore } from '../../src/embedded/types.ts';
import { openEmbeddedStore } from '../../src/embedded/index.ts';

let store: EmbeddedStore;

const enc = new TextEncoder();
function message(n: number): Uint8Array {
  return enc.encode([
    `From: Bob <bob@example.com>`, `To: alice@example.com`, `Subject: Message number ${n}`,
    `Date: Mon, 0${(n % 9) + 1} Jan 2024 10:00:00 +0000`, `Message-ID: <m${n}@example.com>`,
    `MIME-Version: 1.0`, `Content-Type: text/plain; charset=us-ascii`, '', `Body of message ${n}.`, '',
  ].join('\r\n'));
}

function connectInProcess(pass = 'pw'): JmapClient {
  return new JmapClient({
    sessionUrl: 'http://embedded.test/.well-known/jmap',
    auth: basicAuth('alice', pass),
    fetch: (input, init) => store.fetch(new Request(input, init)),
  });
}

const noCode = (code: string) => (e: unknown) => e instanceof ImapError && e.kind === 'NO' && e.code?.name === code;

before(async () => {
  store = openEmbeddedStore({ dbPath: ':memory:', limits: { maxObjectsInGet: 5, maxCallsInRequest: 4 } });
  store.createUser('alice', 'pw');
  for (let n = 1; n <= 7; n++) {
    store.importMessage('alice', 'inbox', message(n), {
      keywords: n % 2 ? ['$seen'] : [], receivedAt: new Date(Date.UTC(2024, 0, n, 12)),
    });
  }
});

after(() => store.close());

async function inboxOf(b: JmapBackend) {
  const { mailboxes } = await b.listMailboxes();
  const byRole = (r: string) => mailboxes.find((m) => m.role === r)!;
  return { inbox: byRole('inbox'), archive: byRole('archive'), mailboxes };
}

test('lists the standard mailboxes with roles, counts and rights', async () => {
  const b = await JmapBackend.connect(connectInProcess());
  const { inbox, mailboxes } = await inboxOf(b);
  for (const role of ['inbox', 'sent', 'drafts', 'trash', 'junk', 'archive']) {
    assert.ok(mailboxes.some((m) => m.role === role), `role ${role}`);
  }
  // The counters are not requested (backend.ts MAILBOX_PROPERTIES): IMAP counts come from the map and unseenCount.
  assert.equal((await b.unseenCount(inbox.id))?.count, 3); // messages 2, 4, 6 have no $seen
  assert.equal(inbox.myRights.mayReadItems, true);
});

test('listEmailIds returns every inbox email in receivedAt order, paged, with a state', async () => {
  const client = connectInProcess();
  const b = await JmapBackend.connect(client);
  const { inbox } = await inboxOf(b);
  const listing = await b.listEmailIds(inbox.id);
  assert.equal(listing.ids.length, 7);
  assert.ok(listing.emailState.length > 0);
  const metas = await b.getEmails(listing.ids);
  const order = metas.map((m) => m.receivedAt);
  assert.deepEqual(order, [...order].sort());
  assert.equal(new Set(listing.ids).size, 7);
});

test('getEmails of 7 ids with maxObjectsInGet 5 costs one request (2 gets batched)', async () => {
  const client = connectInProcess();
  const b = await JmapBackend.connect(client);
  const { inbox } = await inboxOf(b);
  const { ids } = await b.listEmailIds(inbox.id);
  const before = client.requestCount;
  const metas = await b.getEmails(ids);
  assert.equal(client.requestCount - before, 1);
  assert.equal(metas.length, 7);
  const seen = metas.filter((m) => m.keywords.includes('$seen')).length;
  assert.equal(seen, 4);
  for (const m of metas) assert.deepEqual(m.mailboxIds, [inbox.id]);
});

test('raw headers, header lists and the blob match the stored message exactly', async () => {
  const b = await JmapBackend.connect(connectInProcess());
  const { inbox } = await inboxOf(b);
  const { ids } = await b.listEmailIds(inbox.id);
  const [first] = await b.getEmails([ids[0]!]);
  const raw = await b.getRawHeaders([first!.id], ['Subject', 'X-Missing']);
  assert.deepEqual(raw.get(first!.id), { Subject: [' Message number 1'], 'X-Missing': [] });
  const list = (await b.getHeaderLists([first!.id])).get(first!.id)!;
  assert.deepEqual(list[2], { name: 'Subject', value: ' Message number 1' });
  const blob = await b.downloadBlob(first!.blobId);
  assert.deepEqual(blob, message(1));
  assert.equal(first!.size, message(1).length);
});

test('keyword and mailbox updates are visible and reported by Email/changes', async () => {
  const b = await JmapBackend.connect(connectInProcess());
  const { inbox, archive } = await inboxOf(b);
  const { ids, emailState } = await b.listEmailIds(inbox.id);
  const target = ids[1]!;
  await b.updateKeywords([{ id: target, add: ['$flagged'], remove: [] }]);
  const ch = await b.emailChanges(emailState);
  assert.ok(ch.updated.includes(target) || ch.created.includes(target));
  assert.deepEqual((await b.getEmails([target]))[0]!.keywords.sort(), ['$flagged']);
  await b.updateMailboxes([{ id: target, add: [archive.id], remove: [inbox.id] }]);
  assert.deepEqual((await b.listEmailIds(archive.id)).ids, [target]);
  assert.equal((await b.listEmailIds(inbox.id)).ids.length, 6);
  // put it back for the other tests
  await b.updateMailboxes([{ id: target, add: [inbox.id], remove: [archive.id] }]);
  await b.updateKeywords([{ id: target, add: [], remove: ['$flagged'] }]);
});

test('a partly failing update leaves nothing changed and answers NO [NONEXISTENT]', async () => {
  const b = await JmapBackend.connect(connectInProcess());
  const { inbox } = await inboxOf(b);
  const { ids } = await b.listEmailIds(inbox.id);
  const beforeKw = (await b.getEmails([ids[0]!]))[0]!.keywords;
  await assert.rejects(
    b.updateKeywords([{ id: ids[0]!, add: ['$flagged'], remove: [] }, { id: 'no-such-email', add: ['$flagged'], remove: [] }]),
    noCode('NONEXISTENT'),
  );
  assert.deepEqual((await b.getEmails([ids[0]!]))[0]!.keywords.sort(), [...beforeKw].sort());
});

test('importEmail stores the exact bytes; destroyEmails removes it', async () => {
  const b = await JmapBackend.connect(connectInProcess());
  const { archive } = await inboxOf(b);
  const raw = message(42);
  const meta = await b.importEmail(raw, [archive.id], ['$seen'], '2024-03-04T05:06:07Z');
  assert.equal(meta.size, raw.length);
  const [got] = await b.getEmails([meta.id]);
  assert.deepEqual(got!.mailboxIds, [archive.id]);
  assert.deepEqual(got!.keywords, ['$seen']);
  assert.equal(got!.receivedAt, '2024-03-04T05:06:07Z');
  assert.deepEqual(await b.downloadBlob(got!.blobId), raw);
  await b.destroyEmails([meta.id]);
  assert.deepEqual(await b.getEmails([meta.id]), []);
});

test('changes from an unknown state are cannotCalculateChanges', async () => {
  const b = await JmapBackend.connect(connectInProcess());
  await assert.rejects(b.emailChanges('not-a-state-we-ever-had'), (e) => isCannotCalculateChanges(e));
});

test('a wrong password answers NO [AUTHENTICATIONFAILED]', async () => {
  await assert.rejects(JmapBackend.connect(connectInProcess('wrong')), noCode('AUTHENTICATIONFAILED'));
});

test('over TCP with the real fetch: session discovery at /.well-known/jmap and a mailbox listing', async () => {
  const srv = await store.listen(0, '127.0.0.1');
  try {
    const client = new JmapClient({ sessionUrl: `${srv.url}/.well-known/jmap`, auth: basicAuth('alice', 'pw') });
    const b = await JmapBackend.connect(client);
    const { inbox } = await inboxOf(b);
    assert.equal((await b.listEmailIds(inbox.id)).ids.length, 7);
    const s = await client.session();
    assert.ok(s.apiUrl.startsWith('http://127.0.0.1:'));
  } finally {
    await srv.close();
  }
});
