/**
 * No half-done writes (DESIGN.md rule 10, RFC 9051 §6.4.7): JMAP `/set` is atomic per record only (RFC 8620 §5.3),
 * so when the store refuses one email of a 1,000-message COPY, MOVE or STORE the gateway must undo the others and
 * answer NO. The refusal is made by rewriting the gateway's request on its way to the store (one email's update
 * goes to an id that does not exist, or one import to a blob that does not exist), so the store really refuses it
 * while it really applies every other one. The store runs with small limits (maxObjectsInGet 50,
 * maxCallsInRequest 4): the write spans ten HTTP requests and the refusal comes in the ninth, after hundreds of
 * emails were changed. Checked after each: the tagged NO, and the JMAP state, which must equal the state before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const N = 1000;
let bed: TestBed;
let accountId: string;
let srcId: string;
let dstId: string;
let emails: string[] = [];
/** When set, rewrites the parsed JMAP request once (then clears itself). */
let rewrite: ((req: { methodCalls: Array<[string, Record<string, unknown>, string]> }) => boolean) | null = null;
/** HTTP requests the gateway sent. */
let requests = 0;

const enc = new TextEncoder();

before(async () => {
  bed = await startTestBed({
    storeLimits: { maxObjectsInGet: 50, maxCallsInRequest: 4 },
    wrapFetch: (inner) => async (input, init) => {
      requests++;
      if (rewrite && typeof init?.body === 'string') {
        const req = JSON.parse(init.body) as { methodCalls: Array<[string, Record<string, unknown>, string]> };
        if (rewrite(req)) {
          rewrite = null;
          return inner(input, { ...init, body: JSON.stringify(req) });
        }
      }
      return inner(input, init);
    },
  });
  accountId = await accountIdOf(bed);
  const created = await jmap(bed, [['Mailbox/set', { accountId, create: { s: { name: 'Src' }, d: { name: 'Dst' } } }, '0']]);
  const ids = created[0]![1].created as Record<string, { id: string }>;
  srcId = ids.s!.id;
  dstId = ids.d!.id;
  for (let i = 1; i <= N; i++) {
    const raw = enc.encode(`From: a@example.org\r\nSubject: bulk ${i}\r\nMessage-ID: <bulk${i}@example.org>\r\n\r\nBody ${i}\r\n`);
    emails.push(bed.store.importMessage(bed.user, 'Src', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000), ...(i % 3 === 0 ? { keywords: ['$seen'] } : {}) }).emailId);
  }
});
after(() => bed.close());

/** Every email of the account with its mailboxes and keywords, sorted: the JMAP state a failed write must keep. */
async function jmapState(): Promise<unknown> {
  const [, q] = (await jmap(bed, [['Email/query', { accountId, calculateTotal: true }, '0']]))[0]!;
  const ids = q.ids as string[];
  assert.equal(ids.length, q.total, 'one page holds every email');
  assert.ok(ids.length >= N);
  const out: Array<[string, string[], string[]]> = [];
  for (let i = 0; i < ids.length; i += 50) { // the store's maxObjectsInGet
    const [, r] = (await jmap(bed, [['Email/get', { accountId, ids: ids.slice(i, i + 50), properties: ['mailboxIds', 'keywords'] }, '0']]))[0]!;
    for (const e of r.list as Array<{ id: string; mailboxIds: Record<string, true>; keywords: Record<string, true> }>) {
      out.push([e.id, Object.keys(e.mailboxIds).sort(), Object.keys(e.keywords).sort()]);
    }
  }
  return out.sort((a, b) => a[0].localeCompare(b[0]));
}

async function session(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`);
  return c;
}

async function imapState(c: RawClient): Promise<string[]> {
  return [
    (await c.command('s1', 'STATUS Dst (MESSAGES UIDNEXT UNSEEN)'))[0]!,
    ...(await c.command('f', 'FETCH 1:* (UID FLAGS)')).slice(0, -1),
  ];
}

/** Make the store refuse the update of the email at index `victim` (its key points to a non-existent id). */
function refuseUpdateOf(victim: number): typeof rewrite {
  const id = emails[victim]!;
  return (req) => {
    for (const [name, args] of req.methodCalls) {
      const update = args.update as Record<string, unknown> | undefined;
      if (name !== 'Email/set' || !update || !(id in update)) continue;
      update[`${id}-gone`] = update[id];
      delete update[id];
      return true;
    }
    return false;
  };
}

describe('a write that the store refuses for one email of 1,000', () => {
  test('COPY: NO, the destination unchanged, the labels already added removed again', async () => {
    const before = await jmapState();
    const c = await session();
    assert.match((await c.command('S', 'SELECT Src')).at(-1)!, /^S OK /);
    rewrite = refuseUpdateOf(900);
    const start = requests;
    const r = await c.command('a', `COPY 1:${N} Dst`, 30_000);
    assert.equal(rewrite, null, 'the refusal was injected');
    assert.match(r.at(-1)!, /^a NO /);
    assert.ok(requests - start > 10, 'the write spanned several requests before the refusal');
    assert.deepEqual(await jmapState(), before);
    assert.deepEqual((await c.command('t', 'STATUS Dst (MESSAGES)'))[0], '* STATUS Dst (MESSAGES 0)');
    c.close();
  });

  test('MOVE: NO, no EXPUNGE, every email still in the source only', async () => {
    const before = await jmapState();
    const c = await session();
    assert.match((await c.command('S', 'SELECT Src')).at(-1)!, /^S OK /);
    const seen = await imapState(c);
    rewrite = refuseUpdateOf(950);
    const r = await c.command('a', `UID MOVE 1:* Dst`, 30_000);
    assert.equal(rewrite, null, 'the refusal was injected');
    assert.match(r.at(-1)!, /^a NO /);
    assert.deepEqual(r.filter((l) => / EXPUNGE$|COPYUID/.test(l)), [], 'no EXPUNGE and no COPYUID for a failed MOVE');
    assert.deepEqual(await jmapState(), before);
    assert.deepEqual(await imapState(c), seen);
    c.close();
  });

  test('STORE: NO, no flag changed on any of the 1,000', async () => {
    const before = await jmapState();
    const c = await session();
    assert.match((await c.command('S', 'SELECT Src')).at(-1)!, /^S OK /);
    const seen = await imapState(c);
    rewrite = refuseUpdateOf(990);
    const r = await c.command('a', `STORE 1:${N} FLAGS (\\Flagged \\Answered)`, 30_000);
    assert.equal(rewrite, null, 'the refusal was injected');
    assert.match(r.at(-1)!, /^a NO /);
    assert.deepEqual(await jmapState(), before);
    assert.deepEqual(await imapState(c), seen);
    c.close();
  });

  test('COPY into the mailbox itself (Email/import of each blob): NO, every created email destroyed', async () => {
    const before = await jmapState();
    const c = await session();
    assert.match((await c.command('S', 'SELECT Src')).at(-1)!, /^S OK /);
    const seen = await imapState(c);
    rewrite = (req) => {
      for (const [name, args] of req.methodCalls) {
        const list = name === 'Email/import' ? Object.values(args.emails as Record<string, { blobId: string }>) : [];
        if (list.length < 100) continue;
        list[list.length - 1]!.blobId = 'Gno-such-blob';
        return true;
      }
      return false;
    };
    const r = await c.command('a', `COPY 1:${N} Src`, 30_000);
    assert.equal(rewrite, null, 'the refusal was injected');
    assert.match(r.at(-1)!, /^a NO /);
    assert.deepEqual(await jmapState(), before);
    assert.deepEqual(await imapState(c), seen);
    c.close();
  });
});
