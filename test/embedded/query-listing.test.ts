/**
 * Email/query of one mailbox sorted by receivedAt (the listing every IMAP gateway pages through, RFC 8620 §5.5) is
 * answered by an indexed SQL query: it must give exactly the order of the general filter-and-sort path (RFC 8621
 * §4.4.2: receivedAt, then the server's stable tie-break), pages included, and keep other accounts and mailboxes out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, crlf, fixture, roleId } from './helpers.ts';

test('Email/query {inMailbox} by receivedAt: same ids and order as the general path, across pages', async () => {
  const fx = fixture();
  fx.store.createUser('bob', 'pw');
  const msg = (i: number) => bytes(crlf(`From: a${i}@x.test`, `Subject: m${i}`, `Message-ID: <q${i}@x.test>`, '', `body ${i}`, ''));
  // Equal receivedAt for groups of 3 (ties), out of insertion order; some in Archive; Bob's in his own INBOX.
  for (let i = 0; i < 30; i++) {
    fx.store.importMessage('alice', i % 7 === 0 ? 'Archive' : 'INBOX', msg(i), { receivedAt: new Date(Date.UTC(2024, 0, 1) + (29 - Math.floor(i / 3)) * 1000) });
    fx.store.importMessage('bob', 'INBOX', msg(100 + i));
  }
  const inbox = await roleId(fx, 'inbox');
  const sort = [{ property: 'receivedAt', isAscending: true }];
  // An AND of one condition has the same meaning (RFC 8620 §5.5 FilterOperator) but takes the general path.
  const [, general] = await fx.call('Email/query', { filter: { operator: 'AND', conditions: [{ inMailbox: inbox }] }, sort, limit: 1000 });
  assert.equal(general.ids.length, 30 - 5);
  const [, fast] = await fx.call('Email/query', { filter: { inMailbox: inbox }, sort, calculateTotal: true });
  assert.deepEqual(fast.ids, general.ids);
  assert.equal(fast.total, 25);
  // Pages of 10 in one request (as a client reads a large mailbox) join up to the same list.
  const r = await fx.api([0, 10, 20].map((p) => ['Email/query', { accountId: fx.accountId, filter: { inMailbox: inbox }, sort, position: p, limit: 10 }, `p${p}`]));
  assert.deepEqual(r.methodResponses.flatMap((m: [string, { ids: string[] }]) => m[1].ids), general.ids);
  // Unsorted: the general path's order (the stable id order) too.
  const [, plain] = await fx.call('Email/query', { filter: { inMailbox: inbox } });
  const [, plainGeneral] = await fx.call('Email/query', { filter: { operator: 'AND', conditions: [{ inMailbox: inbox }] } });
  assert.deepEqual(plain.ids, plainGeneral.ids);
});
