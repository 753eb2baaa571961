/** mbox splitting (RFC 4155 with mboxrd quoting), the seed CLI reader, and demo seeding. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { splitMbox, openEmbeddedStore } from '../../src/embedded/index.ts';
import { messagesOf } from '../../src/embedded/seed-cli.ts';
import { bytes, type Json } from './helpers.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

test('splitMbox: separator lines dropped, >From unquoted once, trailing separator blank line dropped', () => {
  const mbox = [
    'From alice@example.com Mon Jan  1 00:00:00 2024', 'Subject: one', '', 'Hello', '>From the start', '>>From deeper',
    'Not From here', '',
    'From bob@example.com Tue Jan  2 00:00:00 2024', 'Subject: two', '', 'Bye', '',
  ].join('\n');
  const msgs = splitMbox(bytes(mbox)).map(text);
  assert.deepEqual(msgs, [
    'Subject: one\n\nHello\nFrom the start\n>From deeper\nNot From here\n',
    'Subject: two\n\nBye\n',
  ]);
  assert.deepEqual(splitMbox(bytes('')), []);
});

test('splitMbox keeps CRLF and 8-bit bytes exactly', () => {
  const body = new Uint8Array([...bytes('Subject: caf'), 0xe9, ...bytes('\r\n\r\nx\r\n')]);
  const mbox = new Uint8Array([...bytes('From a@b Sat Jan  1 00:00:00 2000\r\n'), ...body, ...bytes('\r\n')]);
  assert.deepEqual(splitMbox(mbox), [body]);
});

test('seed CLI reader: a folder of .eml/.txt files and an mbox file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'embedded-seed-'));
  try {
    writeFileSync(join(dir, 'a.eml'), 'Subject: a\r\n\r\na\r\n');
    writeFileSync(join(dir, 'b.txt'), 'Subject: b\r\n\r\nb\r\n');
    writeFileSync(join(dir, 'skip.png'), 'nope');
    assert.deepEqual(messagesOf(dir).map(text), ['Subject: a\r\n\r\na\r\n', 'Subject: b\r\n\r\nb\r\n']);
    const mboxPath = join(dir, 'mail.mbox');
    writeFileSync(mboxPath, 'From x Mon Jan  1 00:00:00 2024\nSubject: m1\n\n1\n\nFrom y Mon Jan  1 00:00:00 2024\nSubject: m2\n\n2\n');
    assert.deepEqual(messagesOf(mboxPath).map(text), ['Subject: m1\n\n1\n', 'Subject: m2\n\n2\n']);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});

test('seedDemo: standard roles, Projects/Gateway hierarchy, rich content; idempotent', async () => {
  const store = openEmbeddedStore({ dbPath: ':memory:' });
  store.seedDemo('demo', 'demo');
  store.seedDemo('demo', 'demo');
  const res = await store.fetch(new Request('http://x/jmap/api', { method: 'POST', headers: { authorization: 'Basic ' + btoa('demo:demo'), 'content-type': 'application/json' },
    body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls: [
      ['Mailbox/get', { accountId: 'a1', ids: null }, '0'],
      ['Email/query', { accountId: 'a1' }, '1'],
      ['Email/get', { accountId: 'a1', '#ids': { resultOf: '1', name: 'Email/query', path: '/ids' },
        properties: ['subject', 'from', 'hasAttachment', 'keywords', 'threadId', 'mailboxIds', 'htmlBody', 'textBody', 'size'] }, '2']] }) }));
  const [[, boxes], [, q], [, emails]] = (await res.json()).methodResponses as [[string, Json], [string, Json], [string, Json]];
  const byName = (n: string) => boxes.list.find((m: Json) => m.name === n);
  for (const role of ['inbox', 'sent', 'drafts', 'trash', 'junk', 'archive']) assert.ok(boxes.list.some((m: Json) => m.role === role), role);
  assert.equal(byName('Gateway').parentId, byName('Projects').id);
  assert.ok(byName('Inbox').totalEmails >= 10);
  assert.ok(byName('Inbox').unreadEmails > 0);
  const total = q.ids.length;
  assert.equal(total, boxes.list.reduce((n: number, m: Json) => n + m.totalEmails, 0)); // each email in exactly one mailbox
  const list: Json[] = emails.list;
  assert.ok(list.some((e) => e.hasAttachment));
  assert.ok(list.some((e) => e.htmlBody.some((p: Json) => p.type === 'text/html') && e.textBody.some((p: Json) => p.type === 'text/plain')));
  assert.ok(list.some((e) => /[^\x00-\x7f]/.test(e.subject ?? '')));
  assert.ok(list.some((e) => /[^\x00-\x7f]/.test(e.from?.[0]?.name ?? '')));
  assert.ok(list.some((e) => e.keywords.$flagged));
  const threads = new Map<string, number>();
  for (const e of list) threads.set(e.threadId, (threads.get(e.threadId) ?? 0) + 1);
  assert.ok([...threads.values()].some((n) => n >= 3));
  // Second seed did not duplicate anything.
  store.seedDemo('demo', 'demo');
  const again = await store.fetch(new Request('http://x/jmap/api', { method: 'POST', headers: { authorization: 'Basic ' + btoa('demo:demo'), 'content-type': 'application/json' },
    body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls: [['Email/query', { accountId: 'a1', calculateTotal: true }, '0']] }) }));
  assert.equal((await again.json()).methodResponses[0][1].total, total);
  store.close();
});
