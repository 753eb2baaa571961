/**
 * Issue 4: "warm" includes before a restart. The keyword cache (src/session/keyword-cache.ts) and STATUS's exact
 * UNSEEN counts are kept in the cache file (src/cache/keyword-store.ts), so a gateway restarted over the same data
 * directory answers its first listing and its first `UID FETCH 1:* FLAGS` with one `Email/changes` (DESIGN.md
 * rule 9), trusting the stored keywords only through the Email state they were stored at: a keyword changed in JMAP
 * while the gateway was down is read again (that email alone), a store that lost its change history
 * (cannotCalculateChanges, RFC 8620 §5.2) has everything read again, and two accounts never see each other's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { jmapBasicAuthenticator } from '../../src/auth/jmap-basic.ts';
import { startNodeGateway, type NodeGateway } from '../../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import { keywordCache } from '../../src/session/keyword-cache.ts';

const N = 150; // above KEYWORD_CACHE_MIN (100): FETCH uses the keyword cache
const M = 120;
const LISTING = 'UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])';
const BOB = 'bob@example.test';
const BOB_PASSWORD = 'bob password';

type Call = [string, Record<string, unknown>, string];
let bed: TestBed;
let requests: Call[][] = [];
let breakChanges = false;
let ids: string[] = [];
let accountId = '';
let bobAccountId = '';
let gateway: NodeGateway | null = null;
let uidStore: SqliteUidStore | null = null;
let port = 0;

/** Records each JMAP request's method calls; can make Email/changes answer cannotCalculateChanges. */
function recorder(inner: typeof fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).endsWith('/jmap/api') && typeof init?.body === 'string') {
      const calls = (JSON.parse(init.body) as { methodCalls: Call[] }).methodCalls;
      requests.push(calls);
      if (breakChanges && calls.every((c) => c[0] === 'Email/changes')) {
        const methodResponses = calls.map(([, , id]) => ['error', { type: 'cannotCalculateChanges' }, id]);
        return new Response(JSON.stringify({ methodResponses, sessionState: 'x' }), { headers: { 'Content-Type': 'application/json' } });
      }
    }
    return inner(input, init);
  }) as typeof fetch;
}

function raw(who: string, i: number): Uint8Array {
  return new TextEncoder().encode(`From: ${who}${i}@example.org\r\nSubject: ${who} ${i}\r\nMessage-ID: <${who}${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

before(async () => {
  bed = await startTestBed({ wrapFetch: recorder });
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 0; i < N; i++) bed.store.importMessage(bed.user, 'inbox', raw('a', i), { receivedAt: new Date(t0 + i * 1000), keywords: i % 2 ? ['$seen'] : [] });
  bobAccountId = bed.store.createUser(BOB, BOB_PASSWORD).accountId;
  for (let i = 0; i < M; i++) bed.store.importMessage(BOB, 'inbox', raw('b', i), { receivedAt: new Date(t0 + i * 1000), keywords: ['$flagged'] });
  accountId = await accountIdOf(bed);
  const [[, q]] = await jmap(bed, [['Email/query', { accountId, sort: [{ property: 'receivedAt', isAscending: true }] }, 'q']]) as [[string, { ids: string[] }, string]];
  ids = q.ids;
  port = bed.imapPort;
});
after(async () => {
  await stop();
  await bed.close();
});

/** Stops the running gateway (the test bed's first, then ours), and forgets what a stopped process forgets. */
async function stop(): Promise<void> {
  keywordCache.clear(); // the process-wide keyword cache (gateways without a cache file): gone with the process
  if (!gateway) return bed.gateway.close(1000);
  await gateway.close(1000);
  await uidStore!.close();
  gateway = null;
}

/** A new gateway process over the same data directory (UID map and cache file). */
async function start(): Promise<void> {
  uidStore = SqliteUidStore.open(join(bed.dir, 'uidmap.sqlite'));
  gateway = await startNodeGateway({
    host: '127.0.0.1', imapPort: 0, imapsPort: -1, dataDir: bed.dir, uidStore,
    authenticator: jmapBasicAuthenticator({ sessionUrl: `${bed.jmapUrl}/.well-known/jmap`, tenant: 'test', timeoutMs: 3000, fetch: recorder((i, init) => fetch(i, init)) }),
  });
  port = gateway.imapPort!;
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

async function session(user = bed.user, password = bed.password): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.line();
  assert.match((await c.command('a', `LOGIN "${user}" "${password}"`)).at(-1)!, /^a OK/);
  assert.match((await c.command('b', 'SELECT INBOX')).at(-1)!, /^b OK/);
  return c;
}

/** FLAGS of each UID in a FETCH answer. */
function flagsOf(lines: string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of lines.filter((x) => /^\* \d+ FETCH /.test(x))) out.set(Number(/UID (\d+)/.exec(l)![1]), /FLAGS \(([^)]*)\)/.exec(l)![1]!);
  return out;
}

async function run(c: RawClient, command: string): Promise<{ lines: string[]; requests: Call[][] }> {
  requests = [];
  const lines = await c.command('f', command);
  assert.match(lines.at(-1)!, /^f OK/, lines.join('\n'));
  return { lines, requests: [...requests] };
}

/** Alice's flags as imported: odd positions \Seen. */
function expectedAlice(): Map<number, string> {
  return new Map(Array.from({ length: N }, (_, i) => [i + 1, i % 2 ? '\\Seen' : ''] as const));
}

const methods = (reqs: Call[][]) => reqs.map((r) => r.map((c) => c[0]).join('+'));

async function emailState(user: string, password: string, account: string): Promise<string> {
  const res = await fetch(`${bed.jmapUrl}/jmap/api`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + btoa(`${user}:${password}`) },
    body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls: [['Email/get', { accountId: account, ids: [] }, 'g']] }),
  });
  return ((await res.json()) as { methodResponses: Call[] }).methodResponses[0]![1].state as string;
}

test('after a restart, FLAGS, a listing and STATUS UNSEEN cost one Email/changes each, with the right answers', async () => {
  const c = await session();
  const first = await run(c, LISTING);
  assert.deepEqual(flagsOf(first.lines), expectedAlice());
  const status = await run(c, 'STATUS INBOX (UNSEEN)');
  assert.deepEqual(status.lines.slice(0, 1), [`* STATUS INBOX (UNSEEN ${N / 2})`]);
  c.close();

  await restart();
  const d = await session();
  const flags = await run(d, 'UID FETCH 1:* FLAGS');
  assert.deepEqual(flagsOf(flags.lines), expectedAlice());
  assert.deepEqual(methods(flags.requests), ['Email/changes'], 'keywords from the cache file, brought forward by Email/changes');
  const listing = await run(d, LISTING);
  assert.deepEqual(flagsOf(listing.lines), expectedAlice());
  assert.deepEqual(methods(listing.requests), ['Email/changes']);
  const again = await run(d, 'STATUS INBOX (UNSEEN)');
  assert.deepEqual(again.lines.slice(0, 1), [`* STATUS INBOX (UNSEEN ${N / 2})`]);
  assert.ok(!again.requests.flat().some((call) => call[0] === 'Email/query'), `the count at this state is remembered: ${methods(again.requests).join(', ')}`);
  d.close();
});

test('a keyword changed in JMAP while the gateway was down is seen after the restart; only that email is read', async () => {
  await stop();
  const set = await jmap(bed, [['Email/set', { accountId, update: { [ids[4]!]: { 'keywords/$flagged': true }, [ids[7]!]: { 'keywords/$seen': null } } }, 's']]);
  assert.deepEqual(Object.keys(set[0]![1].updated as object).sort(), [ids[4], ids[7]].sort());
  await start();
  const c = await session();
  const listing = await run(c, LISTING);
  const want = expectedAlice();
  want.set(5, '\\Flagged');
  want.set(8, '');
  assert.deepEqual(flagsOf(listing.lines), want);
  assert.deepEqual(methods(listing.requests), ['Email/changes', 'Email/get']);
  assert.deepEqual(listing.requests[1]!.flatMap((call) => call[1].ids as string[]).sort(), [ids[4], ids[7]].sort());
  const status = await run(c, 'STATUS INBOX (UNSEEN)');
  assert.deepEqual(status.lines.slice(0, 1), [`* STATUS INBOX (UNSEEN ${N / 2 + 1})`], 'not the count remembered from before the change');
  c.close();
  // Put the flags back for the next tests.
  await jmap(bed, [['Email/set', { accountId, update: { [ids[4]!]: { 'keywords/$flagged': null }, [ids[7]!]: { 'keywords/$seen': true } } }, 's']]);
});

test('a store that lost its change history (cannotCalculateChanges) has every keyword read again after a restart', async () => {
  await stop();
  breakChanges = true;
  try {
    await start();
    const c = await session();
    const listing = await run(c, 'UID FETCH 1:* FLAGS');
    assert.deepEqual(flagsOf(listing.lines), expectedAlice());
    const read = listing.requests.flat().filter((call) => call[0] === 'Email/get').flatMap((call) => call[1].ids as string[]);
    assert.deepEqual(read.sort(), [...ids].sort(), 'nothing stored is trusted: all keywords read again');
    c.close();
  } finally {
    breakChanges = false;
  }
  await restart();
  const d = await session();
  const listing = await run(d, 'UID FETCH 1:* FLAGS');
  assert.deepEqual(flagsOf(listing.lines), expectedAlice());
  assert.deepEqual(methods(listing.requests), ['Email/changes'], 'what was read again was stored again');
  d.close();
});

test('two accounts on one gateway do not mix their stored keywords or states', async () => {
  const b = await session(BOB, BOB_PASSWORD);
  const bobFlags = new Map(Array.from({ length: M }, (_, i) => [i + 1, '\\Flagged'] as const));
  assert.deepEqual(flagsOf((await run(b, 'UID FETCH 1:* FLAGS')).lines), bobFlags);
  b.close();
  const a = await session();
  await run(a, 'UID FETCH 1:* FLAGS');
  a.close();

  await restart();
  for (const [user, password, account, want] of [[BOB, BOB_PASSWORD, bobAccountId, bobFlags], [bed.user, bed.password, accountId, expectedAlice()]] as const) {
    const c = await session(user, password);
    const state = await emailState(user, password, account);
    const got = await run(c, 'UID FETCH 1:* FLAGS');
    assert.deepEqual(flagsOf(got.lines), want, user);
    assert.deepEqual(methods(got.requests), ['Email/changes'], user);
    const args = got.requests[0]![0]![1];
    assert.equal(args.accountId, account, `${user}: its own account`);
    assert.equal(args.sinceState, state, `${user}: since its own stored state`);
    c.close();
  }
});
