/**
 * Mailbox commands end to end: imapflow and raw IMAP through the gateway, effects checked in JMAP directly
 * (Mailbox/get, Email/get against the embedded store): CREATE / DELETE / RENAME / SUBSCRIBE (RFC 9051 §6.3.4-8),
 * STATUS (§6.3.11, RFC 8438 SIZE, RFC 8474 MAILBOXID), LIST-STATUS (RFC 5819), modified UTF-7 names (§5.1.3).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { jmap, jmapCreate, jmapMailboxes, jmapPaths, loggedIn } from '../helpers/mailbox-jmap.ts';
import { MULTIPART, SIMPLE } from '../fixtures/messages.ts';

let bed: TestBed;
before(async () => {
  bed = await startTestBed();
});
after(() => bed.close());

function client(): ImapFlow {
  return new ImapFlow({ host: bed.host, port: bed.imapPort, secure: false, doSTARTTLS: false, auth: { user: bed.user, pass: bed.password }, logger: false });
}

async function withClient<T>(fn: (c: ImapFlow) => Promise<T>): Promise<T> {
  const c = client();
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.logout();
  }
}

/** imapflow STATUS, which must answer (imapflow gives `false` for a failed STATUS). */
async function status(c: ImapFlow, path: string, query: Parameters<ImapFlow['status']>[1]) {
  const r = await c.status(path, query);
  assert.ok(r, `STATUS ${path} answered`);
  return r;
}

/** The JMAP mailbox at a path (levels joined with `/` here; JMAP names are the levels). */
async function jmapAt(path: string) {
  return (await jmapPaths(bed)).get(path.split('/').join('\u0000'));
}

async function emailMailboxes(id: string): Promise<string[] | null> {
  const [[, args]] = (await jmap(bed, [['Email/get', { accountId: await accountOf(), ids: [id], properties: ['mailboxIds'] }, 'g']])) as [[string, { list: Array<{ mailboxIds: Record<string, boolean> }> }, string]];
  return args.list[0] ? Object.keys(args.list[0].mailboxIds) : null;
}

async function accountOf(): Promise<string> {
  const auth = 'Basic ' + Buffer.from(`${bed.user}:${bed.password}`).toString('base64');
  const s = await (await fetch(`${bed.jmapUrl}/.well-known/jmap`, { headers: { authorization: auth } })).json() as { primaryAccounts: Record<string, string> };
  return s.primaryAccounts['urn:ietf:params:jmap:mail']!;
}

describe('imapflow', () => {
  test('mailboxCreate makes the parent and the child in JMAP; subscriptions are JMAP isSubscribed', () => withClient(async (c) => {
    const created = await c.mailboxCreate(['Projects', '2024']); // imapflow SUBSCRIBEs what it creates
    assert.equal(created.path, 'Projects/2024');
    assert.equal(created.created, true);
    const parent = await jmapAt('Projects');
    const child = await jmapAt('Projects/2024');
    assert.ok(parent && child, 'both levels exist in JMAP');
    assert.equal(child!.parentId, parent!.id);
    assert.equal(parent!.isSubscribed, false, 'CREATE itself subscribes nothing');
    assert.equal(child!.isSubscribed, true);
    let listed = await c.list();
    assert.equal(listed.find((m) => m.path === 'Projects/2024')?.subscribed, true);
    assert.notEqual(listed.find((m) => m.path === 'Projects')?.subscribed, true);
    await c.mailboxUnsubscribe('Projects/2024');
    assert.equal((await jmapAt('Projects/2024'))!.isSubscribed, false);
    listed = await c.list();
    assert.notEqual(listed.find((m) => m.path === 'Projects/2024')?.subscribed, true);
    await c.mailboxSubscribe('Projects');
    assert.equal((await jmapAt('Projects'))!.isSubscribed, true);
  }));

  test('mailboxRename moves the children with it and keeps UIDVALIDITY and UIDs', () => withClient(async (c) => {
    await c.mailboxCreate(['Old', 'Kid']);
    bed.store.importMessage(bed.user, 'Old', SIMPLE);
    const before = await status(c, 'Old', { uidValidity: true, uidNext: true, messages: true });
    const renamed = await c.mailboxRename('Old', 'Renamed/Deeper');
    assert.equal(renamed.newPath, 'Renamed/Deeper');
    assert.equal(await jmapAt('Old'), undefined);
    const moved = await jmapAt('Renamed/Deeper');
    assert.ok(moved, 'renamed under a new parent');
    assert.ok(await jmapAt('Renamed/Deeper/Kid'), 'the child followed');
    const after = await status(c, 'Renamed/Deeper', { uidValidity: true, uidNext: true, messages: true });
    assert.equal(after.uidValidity, before.uidValidity);
    assert.equal(after.uidNext, before.uidNext);
    assert.equal(after.messages, 1);
    const box = await c.mailboxOpen('Renamed/Deeper');
    assert.equal(box.uidValidity, before.uidValidity);
    const [msg] = await c.fetchAll('1:*', { uid: true });
    assert.equal(msg!.uid, 1);
  }));

  test('mailboxDelete removes the mailbox and its messages (an email also elsewhere only leaves it)', () => withClient(async (c) => {
    await c.mailboxCreate('Doomed');
    const only = bed.store.importMessage(bed.user, 'Doomed', SIMPLE).emailId;
    const shared = bed.store.importMessage(bed.user, 'Doomed', MULTIPART).emailId;
    const doomed = (await jmapAt('Doomed'))!.id;
    const archive = (await jmapMailboxes(bed)).find((m) => m.role === 'archive')!.id;
    await jmap(bed, [['Email/set', { accountId: await accountOf(), update: { [shared]: { [`mailboxIds/${archive}`]: true } } }, 'u']]);
    const oldValidity = (await status(c, 'Doomed', { uidValidity: true })).uidValidity!;
    await c.mailboxDelete('Doomed');
    assert.equal(await jmapAt('Doomed'), undefined);
    assert.equal(await emailMailboxes(only), null, 'an email only in the deleted mailbox is destroyed');
    assert.deepEqual(await emailMailboxes(shared), [archive]);
    assert.ok(!(await c.list()).some((m) => m.path === 'Doomed'));
    await c.mailboxCreate('Doomed');
    const again = await status(c, 'Doomed', { uidValidity: true, messages: true });
    assert.ok(again.uidValidity! > oldValidity, 'a re-created mailbox gets a larger UIDVALIDITY');
    assert.equal(again.messages, 0);
    assert.notEqual((await jmapAt('Doomed'))!.id, doomed);
  }));

  test('status agrees with a later SELECT; list with statusQuery and listTree', () => withClient(async (c) => {
    await c.mailboxCreate('Counted');
    bed.store.importMessage(bed.user, 'Counted', SIMPLE, { keywords: ['$seen'] });
    bed.store.importMessage(bed.user, 'Counted', MULTIPART, { keywords: ['$draft'] });
    const st = await status(c, 'Counted', { messages: true, unseen: true, uidNext: true, uidValidity: true, recent: true });
    // UNSEEN counts messages without \Seen, drafts included (RFC 9051 §6.3.11), unlike JMAP unreadEmails.
    assert.deepEqual({ m: st.messages, u: st.unseen, n: st.uidNext, r: st.recent }, { m: 2, u: 1, n: 3, r: 0 });
    const box = await c.mailboxOpen('Counted');
    assert.equal(box.exists, 2);
    assert.equal(box.uidNext, st.uidNext);
    assert.equal(box.uidValidity, st.uidValidity);
    await c.mailboxClose();
    const listed = await c.list({ statusQuery: { messages: true, unseen: true } });
    const counted = listed.find((m) => m.path === 'Counted');
    assert.deepEqual({ m: counted?.status?.messages, u: counted?.status?.unseen }, { m: 2, u: 1 });
    const tree = await c.listTree();
    const projects = tree.folders?.find((f) => f.path === 'Projects');
    assert.deepEqual(projects?.folders?.map((f) => f.path), ['Projects/2024']);
  }));
});

describe('raw IMAP', () => {
  test('STATUS DELETED, SIZE, MAILBOXID, RECENT; STATUS of the selected mailbox', async () => {
    await jmapCreate(bed, ['Sized']);
    bed.store.importMessage(bed.user, 'Sized', SIMPLE);
    bed.store.importMessage(bed.user, 'Sized', MULTIPART);
    const id = (await jmapAt('Sized'))!.id;
    const c = await loggedIn(bed);
    try {
      await c.command('s', 'SELECT Sized');
      assert.match((await c.command('f', 'STORE 2 +FLAGS.SILENT (\\Deleted)')).at(-1)!, /^f OK/);
      const r = await c.command('t', 'STATUS Sized (MESSAGES DELETED SIZE MAILBOXID RECENT)');
      assert.deepEqual(r, [`* STATUS Sized (MESSAGES 2 DELETED 1 SIZE ${SIMPLE.length + MULTIPART.length} MAILBOXID (${id}) RECENT 0)`, r.at(-1)]);
      assert.match(r.at(-1)!, /^t OK/);
    } finally {
      c.close();
    }
  });

  test('names in modified UTF-7 and JMAP names containing "/" round-trip', async () => {
    await jmap(bed, [['Mailbox/set', { accountId: await accountOf(), create: { k: { name: 'a/b', parentId: null } } }, 's']]);
    const c = await loggedIn(bed);
    try {
      // "a/b" is one JMAP name, shown with U+2215 DIVISION SLASH ("&IhU-" in modified UTF-7).
      assert.deepEqual((await c.command('l', 'LIST "" "a*"')).slice(0, -1), ['* LIST (\\HasNoChildren) "/" a&IhU-b']);
      assert.match((await c.command('s', 'SELECT a&IhU-b')).at(-1)!, /^s OK/);
      assert.match((await c.command('r', 'RENAME a&IhU-b c&IhU-d')).at(-1)!, /^r OK/);
      assert.equal(await jmapAt('c/d'), undefined, 'not split into levels c > d');
      assert.ok((await jmapMailboxes(bed)).some((m) => m.name === 'c/d' && m.parentId === null));
      assert.match((await c.command('cr', 'CREATE Entw&APw-rfe')).at(-1)!, /^cr OK/);
      assert.ok((await jmapMailboxes(bed)).some((m) => m.name === 'Entwürfe'));
      assert.match((await c.command('bad', 'CREATE Entw&APw')).at(-1)!, /^bad BAD/);
    } finally {
      c.close();
    }
  });

  test('refusals: NONEXISTENT, ALREADYEXISTS, CANNOT, HASCHILDREN; nothing changes', async () => {
    await jmapCreate(bed, ['P', 'P/Q', 'R']);
    const c = await loggedIn(bed);
    try {
      const before = JSON.stringify(await jmapMailboxes(bed));
      const expect = async (cmd: string, re: RegExp) => assert.match((await c.command('x', cmd)).at(-1)!, re, cmd);
      await expect('RENAME Nope Other', /^x NO \[NONEXISTENT\]/);
      await expect('RENAME P R', /^x NO \[ALREADYEXISTS\]/);
      await expect('RENAME P P/Q/Z', /^x NO \[CANNOT\]/);
      await expect('RENAME P INBOX', /^x NO \[ALREADYEXISTS\]/);
      await expect('CREATE P/Q', /^x NO \[ALREADYEXISTS\]/);
      await expect('CREATE a//b', /^x NO \[CANNOT\]/);
      await expect('DELETE P', /^x NO \[HASCHILDREN\]/);
      await expect('DELETE Nope', /^x NO \[NONEXISTENT\]/);
      await expect('DELETE inbox', /^x NO/);
      await expect('SUBSCRIBE Nope', /^x NO \[NONEXISTENT\]/);
      await expect('STATUS Nope (HIGHESTMODSEQ)', /^x NO \[NONEXISTENT\]/);
      assert.equal(JSON.stringify(await jmapMailboxes(bed)), before);
    } finally {
      c.close();
    }
  });

  test('DELETE of the selected mailbox closes it ([CLOSED]); commands of the selected state are then BAD', async () => {
    await jmapCreate(bed, ['Selected']);
    const c = await loggedIn(bed);
    try {
      await c.command('s', 'SELECT Selected');
      const r = await c.command('d', 'DELETE Selected');
      assert.match(r[0]!, /^\* OK \[CLOSED\]/);
      assert.match(r.at(-1)!, /^d OK/);
      assert.match((await c.command('f', 'FETCH 1 FLAGS')).at(-1)!, /^f BAD/);
    } finally {
      c.close();
    }
  });
});

describe('JMAP round trips (DESIGN.md rule 8)', () => {
  /** Count the JMAP API requests (POST /jmap/api) the gateway makes while `fn` runs; the gateway is in-process. */
  async function apiRequests(fn: () => Promise<unknown>): Promise<number> {
    const original = globalThis.fetch;
    let n = 0;
    globalThis.fetch = (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (url.startsWith(bed.jmapUrl) && url.includes('/jmap/api')) n++;
      return original(input, init);
    };
    try {
      await fn();
    } finally {
      globalThis.fetch = original;
    }
    return n;
  }

  test('each mailbox command costs a small fixed number of JMAP requests', async () => {
    await jmapCreate(bed, ['Budget']);
    bed.store.importMessage(bed.user, 'Budget', SIMPLE);
    const c = await loggedIn(bed);
    try {
      await c.command('warm', 'NOOP');
      const cost = async (cmd: string) => apiRequests(async () => assert.match((await c.command('x', cmd)).at(-1)!, /^x OK/, cmd));
      assert.equal(await cost('LIST "" "*"'), 1, 'LIST: Mailbox/get');
      assert.equal(await cost('LSUB "" "*"'), 1, 'LSUB: Mailbox/get');
      assert.equal(await cost('STATUS Budget (MESSAGES UIDNEXT UIDVALIDITY)'), 2, 'STATUS: Mailbox/get + listing');
      assert.equal(await cost('STATUS Budget (MESSAGES UNSEEN)'), 2, 'STATUS UNSEEN: the kept tree checked with the sync\'s Email/changes, + the unseen query');
      assert.equal(await cost('CREATE Budget2/Sub'), 2, 'CREATE with a parent: Mailbox/get + one Mailbox/set');
      assert.equal(await cost('SUBSCRIBE Budget2/Sub'), 2, 'SUBSCRIBE: Mailbox/get + Mailbox/set');
      assert.equal(await cost('RENAME Budget2/Sub Budget3'), 2, 'RENAME: Mailbox/get + Mailbox/set');
      assert.equal(await cost('RENAME Budget3 New/Place'), 3, 'RENAME to a new parent: + its create');
      assert.equal(await cost('DELETE New/Place'), 2, 'DELETE: Mailbox/get + Mailbox/set');
      assert.equal(await cost('NAMESPACE'), 0);
      // RFC 9051 §6.3.6: RENAME INBOX moves its messages, here into a new child of INBOX itself.
      bed.store.importMessage(bed.user, 'inbox', SIMPLE);
      const inboxCount = Number(/MESSAGES (\d+)/.exec((await c.command('s0', 'STATUS INBOX (MESSAGES)'))[0]!)![1]);
      assert.ok(inboxCount >= 1);
      assert.match((await c.command('ri', 'RENAME INBOX INBOX/old')).at(-1)!, /^ri OK/);
      assert.deepEqual((await c.command('st', 'STATUS INBOX/old (MESSAGES)')).slice(0, -1), [`* STATUS INBOX/old (MESSAGES ${inboxCount})`]);
      assert.deepEqual((await c.command('s1', 'STATUS INBOX (MESSAGES)')).slice(0, -1), ['* STATUS INBOX (MESSAGES 0)']);
    } finally {
      c.close();
    }
  });
});
