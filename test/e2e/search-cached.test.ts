/**
 * SEARCH over a folder the gateway has listed before (issue 8 speed pass, src/session/search/meta.ts): a flag search
 * answers keywords from the keyword cache (one `Email/changes`, then `Email/get` only of what changed), a header
 * search reads the header blocks the message cache holds (no `Email/get` of header values), and TEXT takes the raw
 * messages in RFC 9404 `Blob/get` groups instead of one download each. Expected answers come from how the mailbox
 * is built (RFC 9051 §6.4.4: UNSEEN = no \Seen; HEADER / SUBJECT / TEXT are substring matches, any case), and a
 * keyword changed directly in JMAP (a webmail) must be seen by the next SEARCH, in the same session or a new one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { MemoryMessageCache } from '../../src/cache/message-cache.ts';

const N = 150; // above search/meta.ts KEYWORD_CACHE_MIN (100)
const LISTING = 'UID FETCH 1:* (UID FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (From Subject Date)])';

let bed: TestBed;
let requests: string[] = [];
let ids: string[] = [];
let accountId = '';

/** Message i (UID i + 1): unseen when i is even; "apple" in the Subject when i % 10 === 3; "needle" in the body when i % 25 === 7. */
function message(i: number): Uint8Array {
  const subject = i % 10 === 3 ? `Re: Apple pie ${i}` : `note ${i}`;
  const body = i % 25 === 7 ? `there is a NeedLe ${i} in here` : `hay ${i}`;
  if (i === 13) { // 8-bit Subject (Latin-1 octets): its header block comes from the raw message
    return Uint8Array.from([...new TextEncoder().encode('From: a@example.org\r\nSubject: caf'), 0xe9, ...new TextEncoder().encode(` apple ${i}\r\n\r\n${body}\r\n`)]);
  }
  return new TextEncoder().encode(`From: a@example.org\r\nSubject: ${subject}\r\nMessage-ID: <m${i}@example.org>\r\n\r\n${body}\r\n`);
}

before(async () => {
  bed = await startTestBed({
    gateway: { messageCache: new MemoryMessageCache() },
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push(typeof init?.body === 'string' ? init.body : String(input));
      return inner(input, init);
    }) as typeof fetch,
  });
  for (let i = 0; i < N; i++) {
    bed.store.importMessage(bed.user, 'inbox', message(i), { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000), keywords: i % 2 ? ['$seen'] : [] });
  }
  accountId = await accountIdOf(bed);
  const [[, q]] = await jmap(bed, [['Email/query', { accountId, sort: [{ property: 'receivedAt', isAscending: true }] }, 'q']]) as [[string, { ids: string[] }, string]];
  ids = q.ids;
  const c = await session(); // a client lists the folder first (fills the message cache and the keyword cache)
  assert.match((await c.command('l', LISTING)).at(-1)!, /^l OK/);
  c.close();
});
after(() => bed.close());

async function session(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  assert.match((await c.command('b', 'SELECT INBOX')).at(-1)!, /^b OK/);
  return c;
}

/** UID SEARCH: the UIDs found and the JMAP requests it made. */
async function search(c: RawClient, criteria: string): Promise<{ uids: number[]; requests: string[] }> {
  requests = [];
  const lines = await c.command('s', `UID SEARCH ${criteria}`);
  assert.match(lines.at(-1)!, /^s OK/, lines.join('\n'));
  const line = lines.find((l) => l.startsWith('* SEARCH')) ?? '';
  return { uids: line.split(' ').slice(2).filter(Boolean).map(Number), requests: [...requests] };
}

const uidsWhere = (pred: (i: number) => boolean) => Array.from({ length: N }, (_, i) => i).filter(pred).map((i) => i + 1);

async function setKeywords(update: Record<string, Record<string, true | null>>): Promise<void> {
  const [name] = (await jmap(bed, [['Email/set', { accountId, update }, 's']]))[0]!;
  assert.equal(name, 'Email/set');
}

test('a warm flag search costs one Email/changes; keywords changed in JMAP are seen in the same and in a new session', async () => {
  const c = await session();
  const first = await search(c, 'UNSEEN');
  assert.deepEqual(first.uids, uidsWhere((i) => i % 2 === 0));
  assert.equal(first.requests.length, 1, first.requests.join('\n'));
  assert.match(first.requests[0]!, /Email\/changes/);

  // A webmail marks message 0 seen and message 1 unseen, and flags message 5.
  await setKeywords({ [ids[0]!]: { 'keywords/$seen': true }, [ids[1]!]: { 'keywords/$seen': null }, [ids[5]!]: { 'keywords/$flagged': true } });
  const second = await search(c, 'UNSEEN');
  assert.deepEqual(second.uids, uidsWhere((i) => i === 1 || (i % 2 === 0 && i !== 0)));
  assert.equal(second.requests.length, 2, 'Email/changes, then Email/get of the changed ids');
  const get = JSON.parse(second.requests[1]!) as { methodCalls: Array<[string, { ids: string[] }]> };
  assert.deepEqual(get.methodCalls.flatMap(([, a]) => a.ids).sort(), [ids[0], ids[1], ids[5]].sort());
  c.close();

  const d = await session();
  assert.deepEqual((await search(d, 'FLAGGED')).uids, [6]);
  const third = await search(d, 'UNSEEN');
  assert.deepEqual(third.uids, second.uids);
  assert.equal(third.requests.length, 1, 'nothing changed: one Email/changes');
  d.close();
});

test('a header search after a listing reads the cached header blocks: no Email/get of header values, no download', async () => {
  const c = await session();
  const r = await search(c, 'HEADER Subject "apple"');
  assert.deepEqual(r.uids, uidsWhere((i) => i % 10 === 3 || i === 13), 'substring, any case; the 8-bit Subject too');
  assert.equal(r.requests.filter((q) => q.includes('"header:')).length, 0, 'no Email/get of header values');
  assert.equal(r.requests.filter((q) => q.includes('/download/') || q.includes('"Blob/get"')).length, 0, 'no raw message');
  assert.deepEqual((await search(c, 'SUBJECT "pie 1"')).uids, uidsWhere((i) => i % 10 === 3 && i !== 13 && String(i).startsWith('1')));
  assert.deepEqual((await search(c, 'NOT HEADER Message-ID ""')).uids, [14], 'only message 13 has no Message-ID');
  c.close();
});

test('TEXT takes the raw messages in one Blob/get request, decides exactly, and keeps the text for the next search', async () => {
  const c = await session();
  const r = await search(c, 'TEXT "needle"');
  assert.deepEqual(r.uids, uidsWhere((i) => i % 25 === 7));
  assert.equal(r.requests.filter((q) => q.includes('/download/')).length, 0, 'no per-message download');
  assert.equal(r.requests.filter((q) => q.includes('"Blob/get"')).length, 1, `${N} small messages: one Blob/get`);
  const again = await search(c, 'BODY "needle 10"');
  assert.deepEqual(again.uids, uidsWhere((i) => i % 25 === 7 && String(i).startsWith('10')));
  assert.equal(again.requests.filter((q) => q.includes('"Blob/get"') || q.includes('/download/')).length, 0, 'decoded text cached per blob');
  c.close();
});
