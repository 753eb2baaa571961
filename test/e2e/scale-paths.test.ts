/**
 * The O(changes) paths of issue 4 "Scale" (docs/bench/profile.md "100k"):
 * - STATUS UNSEEN is counted by the store (`Email/query` `calculateTotal`, no ids listed) when the count ran at the
 *   Email state the synced UID map reflects, and not asked again while the map stays at that state; IMAP UNSEEN counts a `$draft` without `$seen` (RFC 9051 §6.3.11, unlike
 *   JMAP `unreadEmails`, RFC 8621 §2); a change racing in between makes the gateway list and intersect instead, so
 *   UNSEEN never counts a message MESSAGES does not.
 * - `UID FETCH 1:* FLAGS` in a fresh session after a warm one costs one `Email/changes` (keywords from the keyword
 *   cache without the message cache), and a keyword changed in JMAP is read again, alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const N = 150; // above fetch.ts KEYWORD_CACHE_MIN (100)
let bed: TestBed;
let requests: string[] = [];
let onRequest: ((body: string) => void) | null = null;
let ids: string[] = [];
let accountId = '';

const raw = (i: number) => new TextEncoder().encode(`From: a@example.org\r\nSubject: s${i}\r\nMessage-ID: <s${i}@example.org>\r\n\r\nbody ${i}\r\n`);

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      const body = typeof init?.body === 'string' ? init.body : String(input);
      requests.push(body);
      onRequest?.(body);
      return inner(input, init);
    }) as typeof fetch,
  });
  // Every third message seen (i = 0, 3, ...); i = 1 a draft without $seen: unseen for IMAP.
  for (let i = 0; i < N; i++) {
    const keywords = i % 3 === 0 ? ['$seen'] : i === 1 ? ['$draft'] : [];
    bed.store.importMessage(bed.user, 'inbox', raw(i), { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000), keywords });
  }
  accountId = await accountIdOf(bed);
  const [[, q]] = await jmap(bed, [['Email/query', { accountId, sort: [{ property: 'receivedAt', isAscending: true }] }, 'q']]) as [[string, { ids: string[] }, string]];
  ids = q.ids;
});
after(() => bed.close());

async function login(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  return c;
}

async function status(c: RawClient): Promise<{ messages: number; unseen: number; requests: string[] }> {
  requests = [];
  const lines = await c.command('s', 'STATUS INBOX (MESSAGES UNSEEN)');
  assert.match(lines.at(-1)!, /^s OK/);
  const text = lines.join('\n');
  return { messages: Number(/MESSAGES (\d+)/.exec(text)![1]), unseen: Number(/UNSEEN (\d+)/.exec(text)![1]), requests: [...requests] };
}

/** Methods a request body calls, e.g. ['Email/changes']. */
const methods = (body: string): string[] => ((JSON.parse(body) as { methodCalls?: [string][] }).methodCalls ?? []).map((m) => m[0]);
/** Did any request list email ids of a query (an `Email/query` without `limit: 0`)? */
const listed = (bodies: string[]) => bodies.some((b) => b.startsWith('{') && (JSON.parse(b) as { methodCalls?: [string, { limit?: number }][] })
  .methodCalls?.some(([m, a]) => m === 'Email/query' && a.limit !== 0));

test('STATUS UNSEEN: counted without listing, drafts included, exact after a JMAP change', async () => {
  const unseen = N - Math.ceil(N / 3); // i % 3 !== 0; the draft (i = 1) lacks $seen: unseen (RFC 9051 §6.3.11)
  const c = await login();
  const first = await status(c); // first sight: the full sync lists the mailbox once
  assert.deepEqual([first.messages, first.unseen], [N, unseen]);
  const warm = await status(c);
  assert.deepEqual([warm.messages, warm.unseen], [N, unseen]);
  assert.equal(listed(warm.requests), false, 'a warm STATUS lists no ids');
  assert.ok(warm.requests.length <= 2, `warm STATUS: ${warm.requests.length} requests (Mailbox/get, Email/changes)`);
  assert.equal(warm.requests.some((b) => b.includes('Email/query')), false, 'unchanged since the last count: none asked');
  // A webmail marks two unseen messages seen and one seen message unseen.
  await jmap(bed, [['Email/set', { accountId, update: { [ids[1]!]: { 'keywords/$seen': true }, [ids[2]!]: { 'keywords/$seen': true }, [ids[3]!]: { 'keywords/$seen': null } } }, 'u']]);
  const after = await status(c);
  assert.deepEqual([after.messages, after.unseen], [N, unseen - 1]);
  assert.equal(listed(after.requests), false);
  c.close();
});

test('STATUS UNSEEN: a message arriving between the sync and the count is not counted before MESSAGES shows it', async () => {
  const c = await login();
  const before = await status(c);
  // A change that moves the Email state (not UNSEEN), so the next STATUS must count again.
  await jmap(bed, [['Email/set', { accountId, update: { [ids[7]!]: { 'keywords/$flagged': true } } }, 'u']]);
  let injected = false;
  onRequest = (body) => { // the count request: a new unseen message lands first, so its states differ from the map's
    if (!injected && body.includes('"notKeyword"') && body.includes('"limit":0')) {
      injected = true;
      bed.store.importMessage(bed.user, 'inbox', raw(1000), { receivedAt: new Date(Date.UTC(2024, 1, 1)) });
    }
  };
  try {
    const racing = await status(c);
    assert.ok(injected, 'the count request was seen');
    assert.equal(racing.messages, before.messages, 'the map was synced before the arrival');
    assert.equal(racing.unseen, before.unseen, 'UNSEEN counts only messages of the map (fallback listing)');
    assert.equal(listed(racing.requests), true, 'the states differed: the unseen ids were listed');
  } finally {
    onRequest = null;
  }
  const next = await status(c);
  assert.deepEqual([next.messages, next.unseen], [before.messages + 1, before.unseen + 1]);
  c.close();
});

test('UID FETCH 1:* FLAGS: warm costs one Email/changes; a JMAP keyword change is read again alone', async () => {
  const flagsOf = (lines: string[]) => new Map(lines.filter((l) => /^\* \d+ FETCH /.test(l))
    .map((l) => [Number(/UID (\d+)/.exec(l)![1]), /FLAGS \(([^)]*)\)/.exec(l)![1]!] as const));
  const fetchFlags = async () => {
    const c = await login();
    const selected = await c.command('b', 'SELECT INBOX');
    requests = [];
    const lines = await c.command('f', 'UID FETCH 1:* FLAGS');
    assert.match(lines.at(-1)!, /^f OK/);
    c.close();
    return { flags: flagsOf(lines), requests: [...requests], exists: Number(/^\* (\d+) EXISTS/m.exec(selected.join('\n'))![1]) };
  };
  await fetchFlags(); // fills the keyword cache
  const warm = await fetchFlags();
  assert.ok(warm.exists >= N);
  assert.equal(warm.flags.size, warm.exists);
  assert.deepEqual(warm.requests.map(methods), [['Email/changes']]);
  await jmap(bed, [['Email/set', { accountId, update: { [ids[5]!]: { 'keywords/$flagged': true } } }, 'u']]);
  const changed = await fetchFlags();
  assert.equal(changed.flags.get(6), '\\Flagged', 'UID 6 = the 6th message (ids ascending by receivedAt)');
  assert.equal(changed.flags.get(7), '\\Seen');
  const gets = changed.requests.filter((b) => methods(b).includes('Email/get'));
  assert.equal(gets.length, 1);
  assert.deepEqual((JSON.parse(gets[0]!) as { methodCalls: [string, { ids: string[] }][] }).methodCalls[0]![1].ids, [ids[5]]);
});
