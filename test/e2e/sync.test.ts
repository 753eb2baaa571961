/**
 * Incremental sync (DESIGN.md rule 4): a warm SELECT costs O(changes) JMAP work, not O(mailbox): no Email/query
 * listing once the map knows the mailbox, also after a gateway restart (the map and its JMAP state are persisted).
 * On cannotCalculateChanges (RFC 8620 §5.2) the full diff keeps every existing UID and the UIDVALIDITY.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const N = 1200; // above the embedded store's 1000-per-page query cap: a full listing needs several pages
let bed: TestBed;
let calls: string[] = [];
let breakChanges = false;

/** Records the JMAP methods the gateway calls; can make Email/changes answer cannotCalculateChanges. */
function recorder(inner: typeof fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = String(input);
    if (url.endsWith('/jmap/api') && typeof init?.body === 'string') {
      const body = JSON.parse(init.body) as { methodCalls: Array<[string, unknown, string]> };
      calls.push(...body.methodCalls.map((c) => c[0]));
      if (breakChanges && body.methodCalls.some((c) => c[0] === 'Email/changes')) {
        // The store answers the request; its Email/changes answers (alone, or beside a SELECT's Mailbox/changes) are
        // replaced by the error.
        const broken = new Set(body.methodCalls.filter((c) => c[0] === 'Email/changes').map((c) => c[2]));
        const json = await (await inner(input, init)).json() as { methodResponses: Array<[string, unknown, string]> };
        json.methodResponses = json.methodResponses.map((r) => (broken.has(r[2]) ? ['error', { type: 'cannotCalculateChanges' }, r[2]] : r));
        return new Response(JSON.stringify(json), { headers: { 'Content-Type': 'application/json' } });
      }
    }
    return inner(input, init);
  }) as typeof fetch;
}

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`From: s${i}@example.org\r\nTo: alice@example.test\r\nSubject: message ${i}\r\nMessage-ID: <m${i}@example.org>\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\n\r\nbody ${i}\r\n`);
}

before(async () => {
  bed = await startTestBed({ wrapFetch: recorder });
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 1; i <= N; i++) bed.store.importMessage(bed.user, 'inbox', message(i), { receivedAt: new Date(t0 + i * 1000) });
});
after(() => bed.close());

async function select(): Promise<{ lines: string[]; uids: number[]; methods: string[] }> {
  calls = [];
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  calls = [];
  const lines = await c.command('b', 'SELECT INBOX');
  const methods = [...calls];
  const uids = (await c.command('c', 'UID FETCH 1:* UID')).flatMap((l) => /UID (\d+)/.exec(l)?.[1] ?? []).map(Number);
  c.close();
  return { lines, uids, methods };
}

test('a cold SELECT lists the mailbox; a warm one uses Email/changes only', async () => {
  const cold = await select();
  assert.ok(cold.lines.includes(`* ${N} EXISTS`));
  assert.ok(cold.methods.includes('Email/query'), `cold: ${cold.methods.join(',')}`);
  const warm = await select();
  assert.ok(warm.lines.includes(`* ${N} EXISTS`));
  assert.ok(!warm.methods.includes('Email/query'), `warm: ${warm.methods.join(',')}`);
  assert.ok(warm.methods.includes('Email/changes'));
  assert.ok(warm.methods.length <= 3, `warm SELECT used ${warm.methods.length} method calls: ${warm.methods.join(',')}`);
  assert.deepEqual(warm.uids, cold.uids);
});

test('changes made in JMAP between sessions: new UIDs above all, the destroyed one gone, no listing', async () => {
  const before = await select();
  const accountId = await accountIdOf(bed);
  const t = Date.UTC(2025, 0, 1);
  for (let i = 1; i <= 3; i++) bed.store.importMessage(bed.user, 'inbox', message(N + i), { receivedAt: new Date(t + i) });
  const q = (await jmap(bed, [['Email/query', { accountId, filter: { subject: 'message 7' }, limit: 50 }, 'q']]))[0]![1] as { ids: string[] };
  const victims = q.ids;
  await jmap(bed, [['Email/set', { accountId, destroy: victims }, 'd']]);
  const after = await select();
  assert.ok(!after.methods.includes('Email/query'), after.methods.join(','));
  assert.equal(after.uids.length, before.uids.length + 3 - victims.length);
  const maxBefore = Math.max(...before.uids);
  assert.deepEqual(after.uids.filter((u) => u > maxBefore), [maxBefore + 1, maxBefore + 2, maxBefore + 3]);
  assert.ok(after.uids.every((u) => before.uids.includes(u) || u > maxBefore), 'old messages keep their UIDs');
});

test('cannotCalculateChanges: a full diff that keeps every UID and the UIDVALIDITY', async () => {
  const before = await select();
  const validity = before.lines.find((l) => l.includes('UIDVALIDITY'));
  breakChanges = true;
  try {
    const after = await select();
    assert.ok(after.methods.includes('Email/query'), 'fell back to the listing');
    assert.equal(after.lines.find((l) => l.includes('UIDVALIDITY')), validity);
    assert.deepEqual(after.uids, before.uids);
  } finally {
    breakChanges = false;
  }
});
