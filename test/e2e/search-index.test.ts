/**
 * SEARCH TEXT / BODY in the two per-tenant modes (session/policy.ts `searchText`).
 *
 * exact (default): IMAP semantics, RFC 9051 §6.4.4: BODY and TEXT are substring matches ("contains the specified
 * string"), TEXT over the header too; decided in the gateway over the downloaded message.
 * index: the store's own `Email/query` filter answers (RFC 8621 §4.4.1: `body` looks in the body parts; `text` in
 * From, To, Cc, Bcc, Subject and the body parts, so not in other header fields), one request, no blob download.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const enc = new TextEncoder();
const messages = [
  'From: a@example.org\r\nSubject: figures\r\nX-Project: zebracorn\r\nMessage-ID: <s1@example.org>\r\n\r\nThe quarterly report is attached.\r\n',
  'From: b@example.org\r\nSubject: lunch\r\nMessage-ID: <s2@example.org>\r\n\r\nNothing to see here.\r\n',
];

interface Counted { bed: TestBed; requests: number; downloads: number }

async function bedWith(searchText: 'exact' | 'index' | undefined): Promise<Counted> {
  const counted: Counted = { bed: undefined as unknown as TestBed, requests: 0, downloads: 0 };
  counted.bed = await startTestBed({
    ...(searchText ? { gateway: { policy: { searchText } } } : {}),
    wrapFetch: (inner) => async (input, init) => {
      counted.requests++;
      // A raw message travels by download (RFC 8620 §6.2) or in an RFC 9404 Blob/get batch.
      if (String(input instanceof Request ? input.url : input).includes('/download/') || String(init?.body ?? '').includes('"Blob/get"')) counted.downloads++;
      return inner(input, init);
    },
  });
  for (const m of messages) counted.bed.store.importMessage(counted.bed.user, 'INBOX', enc.encode(m));
  return counted;
}

async function session(c: Counted): Promise<RawClient> {
  const r = await RawClient.connect(c.bed.imapPort);
  await r.line();
  await r.command('L', `LOGIN "${c.bed.user}" "${c.bed.password}"`);
  assert.match((await r.command('S', 'SELECT INBOX')).at(-1)!, /^S OK /);
  return r;
}

async function search(c: Counted, r: RawClient, criteria: string): Promise<{ line: string; requests: number; downloads: number }> {
  const [req, dl] = [c.requests, c.downloads];
  const lines = await r.command('s', `UID SEARCH ${criteria}`);
  assert.equal(lines.at(-1), 's OK SEARCH completed');
  return { line: lines[0]!, requests: c.requests - req, downloads: c.downloads - dl };
}

describe('searchText exact (default)', () => {
  let c: Counted;
  before(async () => { c = await bedWith(undefined); });
  after(() => c.bed.close());

  test('RFC 9051 §6.4.4: BODY and TEXT match substrings, TEXT in any header field', async () => {
    const r = await session(c);
    const sub = await search(c, r, 'BODY "ARTERL"');
    assert.equal(sub.line, '* SEARCH 1', 'a substring inside a word, any case');
    assert.ok(sub.downloads > 0, 'exact mode reads the messages themselves');
    assert.equal((await search(c, r, 'TEXT zebracorn')).line, '* SEARCH 1', 'TEXT covers every header field');
    assert.equal((await search(c, r, 'BODY zebracorn')).line, '* SEARCH', 'BODY does not look at the header');
    assert.equal((await search(c, r, 'NOT BODY quarterly')).line, '* SEARCH 2');
    r.close();
  });
});

describe('searchText index', () => {
  let c: Counted;
  before(async () => { c = await bedWith('index'); });
  after(() => c.bed.close());

  test('BODY is answered by the store\'s Email/query body filter: one request, no download', async () => {
    const r = await session(c);
    const hit = await search(c, r, 'BODY quarterly');
    assert.equal(hit.line, '* SEARCH 1');
    assert.equal(hit.requests, 1, 'one Email/query');
    assert.equal(hit.downloads, 0, 'no blob download');
    assert.equal((await search(c, r, 'NOT BODY quarterly')).line, '* SEARCH 2', 'NOT over the filter result');
    const or = await search(c, r, 'OR BODY quarterly BODY nothing');
    assert.equal(or.line, '* SEARCH 1 2');
    assert.equal(or.downloads, 0);
    r.close();
  });

  test('RFC 8621 §4.4.1: TEXT follows the store\'s `text` filter, which does not look at other header fields', async () => {
    const r = await session(c);
    const text = await search(c, r, 'TEXT zebracorn');
    assert.equal(text.line, '* SEARCH', 'X-Project is outside the JMAP text filter (exact mode finds it)');
    assert.equal(text.downloads, 0);
    assert.equal((await search(c, r, 'TEXT figures')).line, '* SEARCH 1', 'Subject is inside it');
    r.close();
  });
});
