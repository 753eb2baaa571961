/**
 * A SEARCH whose metadata keys are all flags (UNSEEN, FLAGGED, KEYWORD, ...; src/session/search/meta.ts
 * `keywordsOfIds`) needs the keywords alone (RFC 8621 §4.1.1): from 100 messages on they come from the account's
 * keyword cache brought to the store's state by one `Email/changes`, without the message cache (this gateway has
 * none: no folder listing ever filled one), and what is read is `id` + `keywords` only. Answers are checked against
 * how the mailbox was built (RFC 9051 §6.4.4: UNSEEN = no \Seen, FLAGGED = \Flagged), also after a webmail changes
 * keywords directly in JMAP, and with a size key (which needs the full metadata again).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const N = 120; // above KEYWORD_CACHE_MIN (100)

let bed: TestBed;
let requests: string[] = [];
let ids: string[] = [];
let accountId = '';

/** Message i (UID i + 1): seen when i is odd; flagged when i % 7 === 0; larger than 200 octets when i % 3 === 0. */
before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push(typeof init?.body === 'string' ? init.body : String(input));
      return inner(input, init);
    }) as typeof fetch,
  });
  for (let i = 0; i < N; i++) {
    const body = i % 3 === 0 ? 'x'.repeat(300) : 'short';
    const raw = new TextEncoder().encode(`From: a@example.org\r\nSubject: m${i}\r\nMessage-ID: <k${i}@example.org>\r\n\r\n${body}\r\n`);
    const keywords = [...(i % 2 ? ['$seen'] : []), ...(i % 7 === 0 ? ['$flagged'] : [])];
    bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000), keywords });
  }
  accountId = await accountIdOf(bed);
  const [[, q]] = await jmap(bed, [['Email/query', { accountId, sort: [{ property: 'receivedAt', isAscending: true }] }, 'q']]) as [[string, { ids: string[] }, string]];
  ids = q.ids;
});
after(() => bed.close());

async function session(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  assert.match((await c.command('b', 'SELECT INBOX')).at(-1)!, /^b OK/);
  return c;
}

async function search(c: RawClient, criteria: string): Promise<{ uids: number[]; requests: string[] }> {
  requests = [];
  const lines = await c.command('s', `UID SEARCH ${criteria}`);
  assert.match(lines.at(-1)!, /^s OK/, lines.join('\n'));
  const line = lines.find((l) => l.startsWith('* SEARCH')) ?? '';
  return { uids: line.split(' ').slice(2).filter(Boolean).map(Number), requests: [...requests] };
}

const uidsWhere = (pred: (i: number) => boolean) => Array.from({ length: N }, (_, i) => i).filter(pred).map((i) => i + 1);
type Call = [string, { ids?: string[]; properties?: string[] }];
const callsOf = (body: string) => (JSON.parse(body) as { methodCalls: Call[] }).methodCalls;

test('flag searches read keywords only, then answer from the keyword cache with one Email/changes', async () => {
  const c = await session();
  const first = await search(c, 'UNSEEN');
  assert.deepEqual(first.uids, uidsWhere((i) => i % 2 === 0));
  const gets = first.requests.flatMap(callsOf).filter(([name]) => name === 'Email/get');
  assert.ok(gets.length > 0, first.requests.join('\n'));
  for (const [, args] of gets) assert.deepEqual(args.properties, ['id', 'keywords'], 'no size, dates, blob or thread ids');
  c.close();

  const d = await session(); // a new session: the account's cache answers, no message cache needed
  const again = await search(d, 'OR FLAGGED UNSEEN');
  assert.deepEqual(again.uids, uidsWhere((i) => i % 7 === 0 || i % 2 === 0));
  assert.equal(again.requests.length, 1, again.requests.join('\n'));
  assert.deepEqual(callsOf(again.requests[0]!).map(([name]) => name), ['Email/changes']);

  // A webmail marks message 0 seen and flags message 1: the next search re-reads those two, keywords only.
  const [name] = (await jmap(bed, [['Email/set', { accountId, update: {
    [ids[0]!]: { 'keywords/$seen': true }, [ids[1]!]: { 'keywords/$flagged': true } } }, 's']]))[0]!;
  assert.equal(name, 'Email/set');
  const changed = await search(d, 'FLAGGED');
  assert.deepEqual(changed.uids, uidsWhere((i) => i % 7 === 0 || i === 1));
  const reread = changed.requests.flatMap(callsOf).filter(([n]) => n === 'Email/get');
  assert.deepEqual(reread.flatMap(([, a]) => a.ids ?? []).sort(), [ids[0], ids[1]].sort());
  assert.deepEqual((await search(d, 'UNSEEN')).uids, uidsWhere((i) => i % 2 === 0 && i !== 0));

  // A size key needs the real size: the full metadata is read, and the answer uses it (RFC 9051 §6.4.4 LARGER).
  const sized = await search(d, 'UNSEEN LARGER 200');
  assert.deepEqual(sized.uids, uidsWhere((i) => i % 2 === 0 && i !== 0 && i % 3 === 0));
  d.close();
});
