/**
 * The immutable-data cache (DESIGN.md rule 9) in a folder listing: the first header FETCH takes each message's
 * header block from JMAP `headers` (or the raw message when a value is 8-bit), later ones from the cache; only
 * metadata (keywords) crosses to JMAP again. The answer is the same bytes either way.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ALL } from '../fixtures/messages.ts';

/** A bare-LF message with a folded header: rebuilt from JMAP with CRLF line ends, without a download. */
const LF_FOLDED = new TextEncoder().encode('From: folded@example.org\nSubject: a long subject\n that is folded\nTo: alice@example.test\n\nbody\n');

let bed: TestBed;
let requests: Array<{ url: string; body: string }> = [];

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push({ url: String(input), body: typeof init?.body === 'string' ? init.body : '' });
      return inner(input, init);
    }) as typeof fetch,
  });
  [...ALL, LF_FOLDED].forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000) }));
});
after(() => bed.close());

const LISTING = 'UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)])';

async function listing(): Promise<{ lines: string[]; headerGets: number; downloads: number }> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('b', 'EXAMINE INBOX');
  requests = [];
  const lines = await c.command('c', LISTING);
  c.close();
  return {
    lines,
    headerGets: requests.filter((r) => r.body.includes('"headers"')).length,
    downloads: requests.filter((r) => r.url.includes('/download/')).length,
  };
}

test('the second folder listing is answered from the cache: same bytes, no headers fetched, no download', async () => {
  const first = await listing();
  assert.equal(first.headerGets, 1, 'headers for all messages in one request');
  assert.equal(first.downloads, 1, 'only the message with 8-bit header octets is downloaded');
  const second = await listing();
  assert.equal(second.headerGets, 0);
  assert.equal(second.downloads, 0);
  assert.deepEqual(second.lines, first.lines);
});

test('a bare-LF message with a folded header: the subset comes back with CRLF line ends and its fold kept', async () => {
  const { lines } = await listing();
  const i = lines.findIndex((l) => l.startsWith('From: folded@example.org'));
  assert.ok(i > 0, lines.join('\n'));
  assert.deepEqual(lines.slice(i, i + 4), ['From: folded@example.org', 'Subject: a long subject', ' that is folded', 'To: alice@example.test']);
});
