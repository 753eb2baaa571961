/**
 * JmapBackend.updateKeywords with a KeywordWriteReport (what STORE writes without reading first), against the
 * embedded store in-process: each batch's `Email/get` + `Email/set` in one request (RFC 8620 §3.3), the keywords
 * before the write reported, `notFound` emails skipped, a whole-set `replace` (RFC 8620 §5.3: the property itself)
 * and its undo on a partial failure (DESIGN.md rule 10).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { JmapClient, basicAuth } from '../../src/backend/jmap/client.ts';
import { JmapBackend } from '../../src/backend/jmap/backend.ts';
import type { KeywordWriteReport } from '../../src/backend/backend.ts';
import { ImapError } from '../../src/protocol/errors.ts';
import type { EmbeddedStore } from '../../src/embedded/types.ts';
import { openEmbeddedStore } from '../../src/embedded/index.ts';

let store: EmbeddedStore;
const ids: string[] = [];
/** Method names of each request sent. */
const sent: string[][] = [];

before(() => {
  // maxObjectsInGet 2, maxCallsInRequest 4: a write of 5 emails is 3 batches, 2 requests.
  store = openEmbeddedStore({ dbPath: ':memory:', limits: { maxObjectsInGet: 2, maxObjectsInSet: 2, maxCallsInRequest: 4 } });
  store.createUser('alice', 'pw');
  for (let n = 1; n <= 5; n++) {
    const raw = new TextEncoder().encode(`Subject: kw ${n}\r\nMessage-ID: <kw${n}@example.org>\r\n\r\nbody\r\n`);
    ids.push(store.importMessage('alice', 'inbox', raw, { keywords: n === 1 ? ['$seen', 'Custom'] : n === 2 ? ['$flagged'] : [], receivedAt: new Date(Date.UTC(2024, 0, n)) }).emailId);
  }
});
after(() => store.close());

function backend(): Promise<JmapBackend> {
  return JmapBackend.connect(new JmapClient({
    sessionUrl: 'http://embedded.test/.well-known/jmap',
    auth: basicAuth('alice', 'pw'),
    fetch: (input, init) => {
      if (typeof init?.body === 'string') sent.push((JSON.parse(init.body) as { methodCalls: Array<[string]> }).methodCalls.map((c) => c[0]));
      return store.fetch(new Request(input, init));
    },
  }));
}

const fresh = (): KeywordWriteReport => ({ before: new Map(), missing: new Set(), exact: true });
const sorted = (m: Map<string, string[]>, id: string) => [...(m.get(id) ?? [])].sort();

async function keywords(b: JmapBackend): Promise<string[][]> {
  const metas = new Map((await b.getEmails(ids)).map((m) => [m.id, m.keywords.map((k) => k.toLowerCase()).sort()]));
  return ids.slice(0, 4).map((id) => metas.get(id)!);
}

test('the keywords before the write come from the same requests; emails gone are reported, not a failure', async () => {
  const b = await backend();
  await b.destroyEmails([ids[4]!]);
  const report = fresh();
  const start = sent.length;
  const states = await b.updateKeywords(ids.map((id) => ({ id, add: ['$flagged'], remove: [] })), { report });
  assert.deepEqual(sent.slice(start), [['Email/get', 'Email/set', 'Email/get', 'Email/set'], ['Email/get', 'Email/set']], 'a read before each write, no read first');
  assert.equal(report.exact, true);
  assert.deepEqual([...report.missing], [ids[4]]);
  assert.deepEqual(sorted(report.before, ids[0]!), ['$seen', 'custom']);
  assert.deepEqual(sorted(report.before, ids[1]!), ['$flagged']);
  assert.deepEqual(sorted(report.before, ids[2]!), []);
  assert.ok(states && states.oldState !== states.newState, 'the write moved the Email state');
  assert.deepEqual(await keywords(b), [['$flagged', '$seen', 'custom'], ['$flagged'], ['$flagged'], ['$flagged']]);
  // Without a report an email gone is a failure, as before (NO [NONEXISTENT]), and nothing stays changed.
  await assert.rejects(b.updateKeywords([{ id: ids[2]!, add: ['$answered'], remove: [] }, { id: ids[4]!, add: ['$answered'], remove: [] }]),
    (e) => e instanceof ImapError && e.code?.name === 'NONEXISTENT');
  assert.deepEqual((await keywords(b))[2], ['$flagged']);
});

test('replace sets the whole keyword set; on a partial failure the prior sets come back whole', async () => {
  const b = await backend();
  const before = await keywords(b);
  const report = fresh();
  await b.updateKeywords(ids.slice(0, 2).map((id) => ({ id, add: [], remove: [], replace: ['$draft'] })), { report });
  assert.deepEqual((await keywords(b)).slice(0, 2), [['$draft'], ['$draft']]);
  assert.deepEqual(sorted(report.before, ids[0]!), before[0]);
  // Back as before, then a write whose second batch is refused for its last email: the others get their sets back.
  await b.updateKeywords(ids.slice(0, 2).map((id, i) => ({ id, add: [], remove: [], replace: before[i]! })));
  assert.deepEqual(await keywords(b), before);
  const changes = ids.slice(0, 4).map((id, i) => ({ id, add: [], remove: [], replace: i === 3 ? ['not a keyword'] : ['$answered'] }));
  await assert.rejects(b.updateKeywords(changes, { report: fresh() }), (e) => e instanceof ImapError && e.kind === 'NO');
  assert.deepEqual(await keywords(b), before);
});
