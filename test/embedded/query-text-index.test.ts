/**
 * Email/query text conditions (RFC 8621 §4.4.1 `text`, `body`, `subject`, `from`) answered through the store's
 * trigram index (src/embedded/jmap/text-index.ts) must match exactly what the full scan matches: each term a
 * case-insensitive substring, all terms required, quoted phrases kept whole; emails created or destroyed after the
 * index was built are found / no longer found; other accounts stay out. The full scan is reached with the same
 * condition under a double NOT (RFC 8620 §5.5: same meaning, but the index only serves required conditions).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytes, crlf, fixture, roleId, type Fixture } from './helpers.ts';

const msg = (from: string, subject: string, body: string) =>
  bytes(crlf(`From: ${from}`, 'To: alice@x.test', `Subject: ${subject}`, `Message-ID: <${Math.random()}@x.test>`,
    'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', body, ''));

/** Subjects of the emails a filter matches, sorted (the subject names each test message). */
async function subjects(fx: Fixture, filter: object): Promise<string[]> {
  const [name, q] = await fx.call('Email/query', { filter, limit: 1000 });
  assert.equal(name, 'Email/query', JSON.stringify(q));
  if (q.ids.length === 0) return [];
  const [, g] = await fx.call('Email/get', { ids: q.ids, properties: ['subject'] });
  return g.list.map((e: { subject: string }) => e.subject).sort();
}

const scan = (f: object) => ({ operator: 'NOT', conditions: [{ operator: 'NOT', conditions: [f] }] });

test('text conditions through the trigram index match what the full scan matches', async () => {
  const fx = fixture();
  fx.store.createUser('bob', 'pw');
  fx.store.importMessage('alice', 'INBOX', msg('billing@shop.test', 'm1', 'Your INVOICE is attached.'));
  fx.store.importMessage('alice', 'INBOX', msg('friend@x.test', 'm2', 'Re-invoiced twice, sorry about that'));
  fx.store.importMessage('alice', 'INBOX', msg('friend@x.test', 'm3 invoice in subject only', 'nothing here'));
  fx.store.importMessage('alice', 'Archive', msg('old@x.test', 'm4', 'an old invoice, archived'));
  fx.store.importMessage('alice', 'INBOX', msg('q@x.test', 'm5', 'he said "quoted words" and left; ok'));
  fx.store.importMessage('alice', 'INBOX', msg('u@x.test', 'm6', 'Grüße aus Köln'));
  fx.store.importMessage('bob', 'INBOX', msg('billing@shop.test', 'b1', 'invoice for bob'));
  fx.store.importMessage('alice', 'INBOX', msg('j@x.test', 'm8 tail', 'headline news'));
  const inbox = await roleId(fx, 'inbox');

  const cases: Array<[object, string[]]> = [
    [{ inMailbox: inbox, text: 'invoice' }, ['m1', 'm2', 'm3 invoice in subject only']], // substring, any case
    [{ inMailbox: inbox, body: 'INVOICE' }, ['m1', 'm2']], // body only: m3's subject is not body
    [{ inMailbox: inbox, text: 'voic' }, ['m1', 'm2', 'm3 invoice in subject only']], // inside a word
    [{ text: 'invoice' }, ['m1', 'm2', 'm3 invoice in subject only', 'm4']], // every mailbox, alice's only
    [{ inMailbox: inbox, text: 'invoice twice' }, ['m2']], // every term required
    [{ inMailbox: inbox, text: '"invoiced twice"' }, ['m2']], // a quoted phrase is one term
    [{ inMailbox: inbox, text: '"invoice twice"' }, []],
    [{ inMailbox: inbox, subject: 'invoice' }, ['m3 invoice in subject only']],
    [{ inMailbox: inbox, from: 'shop.test' }, ['m1']],
    [{ inMailbox: inbox, body: 'ok' }, ['m5']], // 2 characters: no trigram, still found
    [{ inMailbox: inbox, body: 'ok "quoted words"' }, ['m5']],
    [{ inMailbox: inbox, body: 'KÖLN grüße' }, ['m6']], // non-ASCII, case-insensitive
    [{ inMailbox: inbox, text: 'invoicing' }, []],
    // `text` is the fields joined by LF (the store's definition): a phrase with an LF spans subject and body.
    [{ inMailbox: inbox, text: '"tail\nheadline"' }, ['m8 tail']],
    [{ operator: 'AND', conditions: [{ inMailbox: inbox }, { body: 'invoice' }, { text: 'sorry' }] }, ['m2']],
  ];
  for (const [filter, expected] of cases) {
    assert.deepEqual(await subjects(fx, filter), expected, JSON.stringify(filter));
    assert.deepEqual(await subjects(fx, scan(filter)), expected, `scan ${JSON.stringify(filter)}`);
  }

  // A malformed filter is refused (RFC 8620 §5.5) even when the index finds no candidate to evaluate it on.
  for (const filter of [{ nosuch: 1, text: 'zzzqqq' }, scan({ nosuch: 1, text: 'zzzqqq' })]) {
    const [name, err] = await fx.call('Email/query', { filter });
    assert.deepEqual([name, err.type], ['error', 'unsupportedFilter'], JSON.stringify(filter));
  }
  const [bad, err] = await fx.call('Email/query', { filter: { operator: 'AND', conditions: [{ text: 'zzzqqq' }, { operator: 'XOR', conditions: [] }] } });
  assert.deepEqual([bad, err.type], ['error', 'invalidArguments']);

  // Created after the index was built: found; destroyed: gone (the index follows every insert and delete).
  fx.store.importMessage('alice', 'INBOX', msg('late@x.test', 'm7', 'a late invoice'));
  assert.deepEqual(await subjects(fx, { inMailbox: inbox, body: 'invoice' }), ['m1', 'm2', 'm7']);
  const [, q] = await fx.call('Email/query', { filter: { inMailbox: inbox, body: 'your invoice' } });
  assert.equal(q.ids.length, 1);
  const [, set] = await fx.call('Email/set', { destroy: q.ids });
  assert.deepEqual(set.destroyed, q.ids);
  assert.deepEqual(await subjects(fx, { inMailbox: inbox, body: 'invoice' }), ['m2', 'm7']);
  assert.deepEqual(await subjects(fx, scan({ inMailbox: inbox, body: 'invoice' })), ['m2', 'm7']);
});
