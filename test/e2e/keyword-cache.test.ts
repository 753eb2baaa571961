/**
 * The keyword cache (src/session/keyword-cache.ts): a warm folder listing costs one `Email/changes` plus an
 * `Email/get` of the changed ids only (DESIGN.md rule 9), and a keyword changed directly in JMAP (a webmail) is
 * still seen by the next FETCH, in a new session or in the same one. Unit part: what the cache may trust.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { AccountKeywords } from '../../src/session/keyword-cache.ts';
import { BackendError, type Changes, type MailBackend } from '../../src/backend/backend.ts';

const N = 150; // above fetch.ts KEYWORD_CACHE_MIN (100): a listing
const LISTING = 'UID FETCH 1:* (UID FLAGS BODY.PEEK[HEADER.FIELDS (Subject)])';

let bed: TestBed;
let requests: string[] = [];
let ids: string[] = [];
let accountId = '';

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push(typeof init?.body === 'string' ? init.body : String(input));
      return inner(input, init);
    }) as typeof fetch,
  });
  for (let i = 0; i < N; i++) {
    const raw = new TextEncoder().encode(`From: a@example.org\r\nSubject: m${i}\r\nMessage-ID: <m${i}@example.org>\r\n\r\nbody ${i}\r\n`);
    bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000), keywords: i % 2 ? ['$seen'] : [] });
  }
  accountId = await accountIdOf(bed);
  const [[, q]] = await jmap(bed, [['Email/query', { accountId, sort: [{ property: 'receivedAt', isAscending: true }] }, 'q']]) as [[string, { ids: string[] }, string]];
  ids = q.ids;
});
after(() => bed.close());

/** FLAGS of each UID in a listing answer. */
function flagsOf(lines: string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of lines) {
    const m = /^\* \d+ FETCH \(.*UID (\d+).*FLAGS \(([^)]*)\)/.exec(l);
    if (m) out.set(Number(m[1]), m[2]!);
  }
  return out;
}

async function session(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('b', 'SELECT INBOX');
  return c;
}

async function listing(c: RawClient): Promise<{ flags: Map<number, string>; requests: string[] }> {
  requests = [];
  const lines = await c.command('l', LISTING);
  assert.match(lines.at(-1)!, /^l OK/);
  return { flags: flagsOf(lines), requests: [...requests] };
}

async function setKeywords(update: Record<string, Record<string, true | null>>): Promise<void> {
  const [name, r] = (await jmap(bed, [['Email/set', { accountId, update }, 's']]))[0]!;
  assert.equal(name, 'Email/set');
  assert.equal(Object.keys((r.updated ?? {}) as object).length, Object.keys(update).length);
}

test('a warm listing costs one Email/changes; keywords changed in JMAP are seen, and only they are read again', async () => {
  const c1 = await session();
  const first = await listing(c1);
  assert.equal(first.flags.size, N);
  assert.equal(first.flags.get(2), '\\Seen', 'message 2 was imported with $seen');
  c1.close();

  // A webmail changes three messages' keywords.
  await setKeywords({ [ids[4]!]: { 'keywords/$flagged': true }, [ids[6]!]: { 'keywords/custom1': true }, [ids[9]!]: { 'keywords/$seen': null } });
  const c2 = await session();
  const second = await listing(c2);
  assert.equal(second.flags.get(5), '\\Flagged');
  assert.equal(second.flags.get(7), 'custom1');
  assert.equal(second.flags.get(10), '', 'RFC 9051 §2.3.2: \\Seen removed in JMAP is gone');
  for (const uid of [1, 2, 3, 4, 6, 8, 9, 11, 150]) assert.equal(second.flags.get(uid), first.flags.get(uid), `UID ${uid} unchanged`);
  assert.equal(second.requests.length, 2, 'Email/changes, then Email/get of the changed ids');
  assert.match(second.requests[0]!, /Email\/changes/);
  const get = JSON.parse(second.requests[1]!) as { methodCalls: Array<[string, { ids: string[] }]> };
  assert.deepEqual(get.methodCalls.flatMap(([, a]) => a.ids).sort(), [ids[4], ids[6], ids[9]].sort());

  const third = await listing(c2);
  assert.deepEqual(third.flags, second.flags);
  assert.equal(third.requests.length, 1, 'nothing changed: one Email/changes');
  assert.match(third.requests[0]!, /Email\/changes/);
  c2.close();
});

test('in the same session, a keyword changed in JMAP between two FETCHes shows in the second', async () => {
  const c = await session();
  const before = await listing(c);
  assert.equal(before.flags.get(3), '');
  await setKeywords({ [ids[2]!]: { 'keywords/$answered': true } });
  const after = await listing(c);
  assert.equal(after.flags.get(3), '\\Answered');
  c.close();
});

test('the gateway\'s own STORE is seen by the next listing of another session', async () => {
  const c = await session();
  await listing(c);
  const r = await c.command('s', 'UID STORE 12 +FLAGS.SILENT (\\Flagged)');
  assert.match(r.at(-1)!, /^s OK/);
  c.close();
  const d = await session();
  assert.equal((await listing(d)).flags.get(12), '\\Flagged \\Seen');
  d.close();
});

/** A backend whose only working method is Email/changes, answering from a script. */
function changesBackend(answer: (since: string) => Changes | Error): MailBackend {
  return { emailChanges: async (since: string) => { const a = answer(since); if (a instanceof Error) throw a; return a; } } as unknown as MailBackend;
}
const meta = (id: string, keywords: string[]) => ({ id, blobId: `b${id}`, threadId: 't', mailboxIds: [], keywords, size: 1, receivedAt: '2024-01-01T00:00:00Z' });

test('unit: keywords read at a state other than the cache\'s are not trusted; changes drop entries; cannotCalculateChanges empties', async () => {
  const k = new AccountKeywords();
  k.record('s1', [meta('a', ['$seen']), meta('b', [])]);
  assert.equal(k.state, 's1');
  k.record('s0', [meta('c', ['$flagged'])]);
  assert.equal(k.get('c'), undefined, 'an Email/get from another state could be older than s1 claims');
  await k.refresh(changesBackend((since) => ({ oldState: since, newState: 's2', hasMoreChanges: false, created: [], updated: ['a'], destroyed: [] })));
  assert.equal(k.state, 's2');
  assert.equal(k.get('a'), undefined, 'a changed since s1: read again');
  assert.deepEqual(k.get('b'), []);
  k.record('s1', [meta('a', ['$seen'])]);
  assert.equal(k.get('a'), undefined, 'a read at s1 is older than s2');
  await k.refresh(changesBackend(() => new BackendError('NO', 'x', undefined, 'cannotCalculateChanges')));
  assert.equal(k.state, null);
  assert.equal(k.size, 0);
});

test('unit: a fresh cache (a restarted gateway) trusts nothing and asks nothing until it has read keywords', async () => {
  const k = new AccountKeywords();
  let asked = 0;
  await k.refresh(changesBackend(() => { asked++; return new Error('not expected'); }));
  assert.equal(asked, 0);
  assert.equal(k.get('a'), undefined);
});
