/** Email/query, /changes, /set (keywords, mailboxIds, destroy), Mailbox counters and /set (RFC 8620 §5, RFC 8621). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, crlf, fixture, roleId, type Fixture, type Json } from './helpers.ts';

function msg(n: number, o: { subject?: string; from?: string; extra?: string[]; body?: string } = {}) {
  return bytes(crlf(`From: ${o.from ?? `Sender ${n} <s${n}@example.com>`}`, 'To: alice@example.com',
    `Subject: ${o.subject ?? `Message ${n}`}`, `Date: Mon, 1 Jan 2024 10:00:0${n % 10} +0000`,
    `Message-ID: <m${n}@example.com>`, ...(o.extra ?? []), '', o.body ?? `Body of message ${n}`, ''));
}

/** Five messages in INBOX with distinct receivedAt (2024-01-0N) and sizes. */
function seed(fx: Fixture): string[] {
  const ids: string[] = [];
  const specs = [
    { subject: 'Re: Zebra', from: 'Carol <carol@example.com>', body: 'apples and pears' },
    { subject: 'apple pie recipe', from: 'Bob <bob@example.com>', body: 'short' },
    { subject: 'Meeting', from: 'Alice <alice@example.com>', body: 'x'.repeat(500) },
    { subject: 'Fwd: Invoice', from: 'Dave <dave@example.com>', body: 'invoice attached (not really)' },
    { subject: 'Lunch?', from: 'Erin <erin@example.com>', body: 'pizza' },
  ];
  specs.forEach((s, i) => ids.push(fx.store.importMessage('alice', 'inbox', msg(i + 1, s),
    { receivedAt: new Date(Date.UTC(2024, 0, i + 1)), keywords: i % 2 === 0 ? ['$seen'] : [] }).emailId));
  return ids;
}

test('Email/query filters (RFC 8621 §4.4.1) with AND/OR/NOT', async () => {
  const fx = fixture();
  const [a, b, c, d, e] = seed(fx) as [string, string, string, string, string];
  const inbox = await roleId(fx, 'inbox');
  const q = async (filter: object) => (await fx.call('Email/query', { filter }))[1].ids;
  assert.deepEqual(await q({ inMailbox: inbox }), [a, b, c, d, e]);
  assert.deepEqual(await q({ inMailboxOtherThan: [inbox] }), []);
  assert.deepEqual(await q({ before: '2024-01-03T00:00:00Z' }), [a, b]);
  assert.deepEqual(await q({ after: '2024-01-03T00:00:00Z' }), [c, d, e]); // "same or after"
  assert.deepEqual(await q({ hasKeyword: '$seen' }), [a, c, e]);
  assert.deepEqual(await q({ notKeyword: '$SEEN' }), [b, d]);
  assert.deepEqual(await q({ from: 'bob' }), [b]);
  assert.deepEqual(await q({ subject: 'APPLE' }), [b]);
  assert.deepEqual(await q({ body: 'pears' }), [a]);
  assert.deepEqual(await q({ text: 'apple' }), [a, b]);
  assert.deepEqual(await q({ text: '"pie recipe"' }), [b]);
  assert.deepEqual(await q({ header: ['Message-ID'] }), [a, b, c, d, e]);
  assert.deepEqual(await q({ header: ['Subject', 'invoice'] }), [d]);
  assert.deepEqual(await q({ operator: 'OR', conditions: [{ from: 'bob' }, { from: 'erin' }] }), [b, e]);
  assert.deepEqual(await q({ operator: 'NOT', conditions: [{ hasKeyword: '$seen' }] }), [b, d]);
  assert.deepEqual(await q({ operator: 'AND', conditions: [{ hasKeyword: '$seen' }, { after: '2024-01-02T00:00:00Z' }] }), [c, e]);
  const big = (await fx.call('Email/get', { ids: [c], properties: ['size'] }))[1].list[0].size;
  assert.deepEqual(await q({ minSize: big }), [c]);
  assert.ok(!(await q({ maxSize: big })).includes(c)); // maxSize: size must be less than
  const [name, err] = await fx.call('Email/query', { filter: { nonsense: 1 } });
  assert.deepEqual([name, err.type], ['error', 'unsupportedFilter']);
  fx.store.close();
});

test('Email/query sort, position, anchor, limit, total (RFC 8620 §5.5, RFC 8621 §4.4.2)', async () => {
  const fx = fixture();
  const [a, b, c, d, e] = seed(fx) as [string, string, string, string, string];
  const q = async (args: object) => (await fx.call('Email/query', args))[1];
  assert.deepEqual((await q({ sort: [{ property: 'receivedAt', isAscending: false }] })).ids, [e, d, c, b, a]);
  // "subject" sorts by the base subject of RFC 5256 §2.1: "Re: Zebra" -> "zebra", "Fwd: Invoice" -> "invoice".
  assert.deepEqual((await q({ sort: [{ property: 'subject' }] })).ids, [b, d, e, c, a]);
  assert.deepEqual((await q({ sort: [{ property: 'from' }] })).ids, [c, b, a, d, e]);
  assert.deepEqual((await q({ sort: [{ property: 'hasKeyword', keyword: '$seen', isAscending: false }] })).ids, [a, c, e, b, d]);
  const sizes = (await q({ sort: [{ property: 'size' }] })).ids;
  assert.equal(sizes.at(-1), c);
  const page = await q({ position: 1, limit: 2, calculateTotal: true });
  assert.deepEqual([page.ids, page.position, page.total], [[b, c], 1, 5]);
  const tail = await q({ position: -2 });
  assert.deepEqual([tail.ids, tail.position], [[d, e], 3]);
  const anchored = await q({ anchor: c, anchorOffset: -1, limit: 2 });
  assert.deepEqual([anchored.ids, anchored.position], [[b, c], 1]);
  const [en, err] = await fx.call('Email/query', { anchor: 'nope' });
  assert.deepEqual([en, err.type], ['error', 'anchorNotFound']);
  const [sn, serr] = await fx.call('Email/query', { sort: [{ property: 'bogus' }] });
  assert.deepEqual([sn, serr.type], ['error', 'unsupportedSort']);
  assert.equal(typeof (await q({})).queryState, 'string');
  fx.store.close();
});

test('server caps the page size and returns the limit it used (RFC 8620 §5.5)', async () => {
  const fx = fixture();
  seed(fx);
  const [, r] = await fx.call('Email/query', { limit: 5000 });
  assert.equal(r.limit, 1000);
  assert.equal(r.ids.length, 5);
  fx.store.close();
});

test('threads group by References/In-Reply-To; collapseThreads; Thread/get order oldest first (RFC 8621 §3, §4.4.3)', async () => {
  const fx = fixture();
  const t1 = fx.store.importMessage('alice', 'inbox', msg(1), { receivedAt: new Date('2024-01-01T00:00:00Z') }).emailId;
  const t2 = fx.store.importMessage('alice', 'inbox', msg(2, { extra: ['In-Reply-To: <m1@example.com>'] }), { receivedAt: new Date('2024-01-02T00:00:00Z') }).emailId;
  const t3 = fx.store.importMessage('alice', 'sent', msg(3, { extra: ['References: <m1@example.com> <m2@example.com>'] }), { receivedAt: new Date('2024-01-03T00:00:00Z') }).emailId;
  const other = fx.store.importMessage('alice', 'inbox', msg(4), { receivedAt: new Date('2024-01-04T00:00:00Z') }).emailId;
  const [, g] = await fx.call('Email/get', { ids: [t1, t2, t3, other], properties: ['threadId'] });
  const [th1, th2, th3, th4] = g.list.map((x: Json) => x.threadId);
  assert.equal(th1, th2);
  assert.equal(th1, th3);
  assert.notEqual(th1, th4);
  const [, t] = await fx.call('Thread/get', { ids: [th1, 'nope'] });
  assert.deepEqual(t.list, [{ id: th1, emailIds: [t1, t2, t3] }]);
  assert.deepEqual(t.notFound, ['nope']);
  const [, q] = await fx.call('Email/query', { collapseThreads: true, sort: [{ property: 'receivedAt', isAscending: false }] });
  assert.deepEqual(q.ids, [other, t3]);
  const [, k] = await fx.call('Email/query', { filter: { someInThreadHaveKeyword: '$x' } });
  assert.deepEqual(k.ids, []);
  fx.store.close();
});

test('keyword and mailboxIds patches, full replacement, counters and /changes (RFC 8620 §5.2, §5.3)', async () => {
  const fx = fixture();
  const [a, b] = seed(fx) as [string, string];
  const inbox = await roleId(fx, 'inbox');
  const archive = await roleId(fx, 'archive');
  const [, before] = await fx.call('Mailbox/get', { ids: [inbox, archive] });
  assert.deepEqual([before.list[0].totalEmails, before.list[0].unreadEmails], [5, 2]);
  const [, e0] = await fx.call('Email/get', { ids: [], properties: ['id'] });
  const emailState = e0.state, mailboxState = before.state;

  const [sn, set] = await fx.call('Email/set', { update: {
    [b]: { 'keywords/$Seen': true, 'keywords/$flagged': true },
    [a]: { [`mailboxIds/${inbox}`]: null, [`mailboxIds/${archive}`]: true },
  } });
  assert.equal(sn, 'Email/set');
  assert.deepEqual(set.updated, { [b]: null, [a]: null });
  assert.equal(set.oldState, emailState);
  const [, got] = await fx.call('Email/get', { ids: [a, b], properties: ['keywords', 'mailboxIds'] });
  assert.deepEqual(got.list[0].mailboxIds, { [archive]: true });
  assert.deepEqual(got.list[1].keywords, { $seen: true, $flagged: true });
  const [, after] = await fx.call('Mailbox/get', { ids: [inbox, archive], properties: ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads'] });
  assert.deepEqual(after.list[0], { id: inbox, totalEmails: 4, unreadEmails: 1, totalThreads: 4, unreadThreads: 1 });
  assert.deepEqual(after.list[1], { id: archive, totalEmails: 1, unreadEmails: 0, totalThreads: 1, unreadThreads: 0 });

  const [, ch] = await fx.call('Email/changes', { sinceState: emailState });
  assert.deepEqual([ch.created, [...ch.updated].sort(), ch.destroyed, ch.hasMoreChanges], [[], [a, b].sort(), [], false]);
  assert.equal(ch.newState, set.newState);
  const [, mch] = await fx.call('Mailbox/changes', { sinceState: mailboxState });
  assert.deepEqual([...mch.updated].sort(), [inbox, archive].sort());
  assert.deepEqual(mch.updatedProperties, ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads']);

  // Full replacement of keywords; removing the last mailbox is invalid (an Email must be in a Mailbox).
  const [, set2] = await fx.call('Email/set', { update: { [b]: { keywords: { $Answered: true } }, [a]: { mailboxIds: {} } } });
  assert.deepEqual(set2.updated, { [b]: null });
  assert.equal(set2.notUpdated[a].type, 'invalidProperties');
  const [, got2] = await fx.call('Email/get', { ids: [b], properties: ['keywords'] });
  assert.deepEqual(got2.list[0].keywords, { $answered: true });
  const [, bad] = await fx.call('Email/set', { update: { [b]: { 'keywords/bad(kw': true }, nope: { keywords: {} }, [a]: { subject: 'x' } } });
  assert.equal(bad.notUpdated[b].type, 'invalidProperties');
  assert.equal(bad.notUpdated.nope.type, 'notFound');
  assert.equal(bad.notUpdated[a].type, 'invalidProperties');
  fx.store.close();
});

test('destroy, /changes with maxChanges, created+destroyed omitted, cannotCalculateChanges, stateMismatch', async () => {
  const fx = fixture();
  const [, s0] = await fx.call('Email/get', { ids: [] });
  const ids = seed(fx);
  const [, s1] = await fx.call('Email/get', { ids: [] });
  const [, d] = await fx.call('Email/set', { destroy: [ids[0], 'nope'] });
  assert.deepEqual(d.destroyed, [ids[0]]);
  assert.equal(d.notDestroyed.nope.type, 'notFound');
  const [, g] = await fx.call('Email/get', { ids: [ids[0]] });
  assert.deepEqual(g.notFound, [ids[0]]);
  const [, all] = await fx.call('Email/changes', { sinceState: s0.state });
  assert.deepEqual(all.created, ids.slice(1)); // created and destroyed since: omitted
  assert.deepEqual(all.destroyed, []);
  const [, since1] = await fx.call('Email/changes', { sinceState: s1.state });
  assert.deepEqual([since1.created, since1.updated, since1.destroyed], [[], [], [ids[0]]]);
  // Paging through changes with maxChanges.
  const seen = new Set<string>();
  let state = s0.state, more = true, rounds = 0;
  while (more && rounds++ < 10) {
    const [, c] = await fx.call('Email/changes', { sinceState: state, maxChanges: 2 });
    assert.ok(c.created.length + c.updated.length + c.destroyed.length <= 2);
    for (const x of c.created) seen.add(x);
    for (const x of c.destroyed) seen.delete(x);
    state = c.newState; more = c.hasMoreChanges;
  }
  assert.equal(rounds, 3); // 6 changes (5 created, 1 destroyed) in pages of 2
  assert.deepEqual([...seen], ids.slice(1));
  for (const bogus of ['garbage', '999999-00000000', '1-ffffffff']) {
    const [name, err] = await fx.call('Email/changes', { sinceState: bogus });
    assert.deepEqual([name, err.type], ['error', 'cannotCalculateChanges'], bogus);
  }
  const [mn, mm] = await fx.call('Email/set', { ifInState: s0.state, destroy: [ids[1]] });
  assert.deepEqual([mn, mm.type], ['error', 'stateMismatch']);
  const [, th] = await fx.call('Thread/changes', { sinceState: s1.state });
  assert.equal(th.destroyed.length, 1);
  fx.store.close();
});

test('Mailbox/set: create child, rename, role uniqueness, mailboxHasChild, mailboxHasEmail, onDestroyRemoveEmails', async () => {
  const fx = fixture();
  const r = await fx.api([
    ['Mailbox/set', { accountId: fx.accountId, create: { p: { name: 'Projects' }, c: { name: 'Gateway', parentId: '#p' } } }, '0'],
    ['Mailbox/get', { accountId: fx.accountId, ids: ['#p', '#c'], properties: ['name', 'parentId'] }, '1'],
  ]);
  const [, created] = r.methodResponses[0];
  const p = created.created.p.id, c = created.created.c.id;
  assert.equal(created.created.p.totalEmails, 0);
  assert.deepEqual(r.methodResponses[1][1].list, [{ id: p, name: 'Projects', parentId: null }, { id: c, name: 'Gateway', parentId: p }]);
  const [, dup] = await fx.call('Mailbox/set', { create: { x: { name: 'Gateway', parentId: p }, y: { name: 'Inbox2', role: 'inbox' }, z: { name: '' } } });
  assert.deepEqual(Object.values(dup.notCreated).map((e: Json) => e.type), ['invalidProperties', 'invalidProperties', 'invalidProperties']);
  const [, hasChild] = await fx.call('Mailbox/set', { destroy: [p] });
  assert.equal(hasChild.notDestroyed[p].type, 'mailboxHasChild');
  const id = fx.store.importMessage('alice', 'Projects/Gateway', msg(1)).emailId;
  const both = fx.store.importMessage('alice', 'Projects/Gateway', msg(2)).emailId;
  await fx.call('Email/set', { update: { [both]: { [`mailboxIds/${p}`]: true } } });
  const [, hasEmail] = await fx.call('Mailbox/set', { destroy: [c] });
  assert.equal(hasEmail.notDestroyed[c].type, 'mailboxHasEmail');
  const [, renamed] = await fx.call('Mailbox/set', { update: { [c]: { name: 'Gateway2', parentId: null } } });
  assert.deepEqual(renamed.updated, { [c]: null });
  const [, loop] = await fx.call('Mailbox/set', { update: { [p]: { parentId: p } } });
  assert.equal(loop.notUpdated[p].type, 'invalidProperties');
  const [, gone] = await fx.call('Mailbox/set', { destroy: [c], onDestroyRemoveEmails: true });
  assert.deepEqual(gone.destroyed, [c]);
  const [, g] = await fx.call('Email/get', { ids: [id, both], properties: ['mailboxIds'] });
  assert.deepEqual(g.notFound, [id]); // only in the destroyed mailbox: destroyed
  assert.deepEqual(g.list[0].mailboxIds, { [p]: true }); // in another mailbox too: just removed
  fx.store.close();
});
