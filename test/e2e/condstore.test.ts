/**
 * CONDSTORE (RFC 7162 §3.1) end to end: the gateway's own mod-sequences (DESIGN.md rule 5) seen by two IMAP
 * sessions and a webmail writing straight to JMAP; STORE UNCHANGEDSINCE against a change racing in through JMAP
 * (`ifInState`, RFC 8620 §5.3); HIGHESTMODSEQ growing and surviving a gateway restart (the counter lives in the
 * persistent UID store).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { jmapBasicAuthenticator } from '../../src/auth/jmap-basic.ts';
import { startNodeGateway } from '../../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import { modseqs } from '../helpers/fetch-lines.ts';

let bed: TestBed;
/** Run once, just before the next `Email/set` carrying `ifInState` goes to JMAP (to inject a racing change). */
let beforeConditionalSet: (() => Promise<void>) | null = null;
let conditionalSets = 0;

function hook(inner: typeof fetch): typeof fetch {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    if (String(input).endsWith('/jmap/api') && typeof init?.body === 'string' && init.body.includes('"ifInState"')) {
      conditionalSets++;
      const run = beforeConditionalSet;
      beforeConditionalSet = null;
      if (run) await run();
    }
    return inner(input, init);
  }) as typeof fetch;
}

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`From: s${i}@example.org\r\nTo: alice@example.test\r\nSubject: condstore ${i}\r\nMessage-ID: <c${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

const ids: string[] = [];
before(async () => {
  bed = await startTestBed({ wrapFetch: hook });
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 1; i <= 4; i++) ids.push(bed.store.importMessage(bed.user, 'inbox', message(i), { receivedAt: new Date(t0 + i * 1000) }).emailId);
});
after(() => bed.close());

async function login(port = bed.imapPort): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.line();
  await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
  return c;
}

/** The number in `[HIGHESTMODSEQ n]` among the lines. */
function highest(lines: string[]): number {
  const m = lines.map((l) => /\[HIGHESTMODSEQ (\d+)\]/.exec(l)).find((x) => x);
  assert.ok(m, `no HIGHESTMODSEQ in ${JSON.stringify(lines)}`);
  return Number(m[1]);
}

async function setKeyword(emailId: string, keyword: string, on: boolean): Promise<void> {
  const accountId = await accountIdOf(bed);
  const [[name, args]] = await jmap(bed, [['Email/set', { accountId, update: { [emailId]: { [`keywords/${keyword}`]: on ? true : null } } }, '0']]) as unknown as [[string, Record<string, unknown>]];
  assert.equal(name, 'Email/set');
  assert.ok(emailId in (args.updated as object), JSON.stringify(args));
}

test('FETCH (CHANGEDSINCE) sees a STORE by another session and a keyword change made directly in JMAP', async () => {
  const a = await login();
  const b = await login();
  const sel = await a.command('s', 'SELECT INBOX (CONDSTORE)');
  assert.match(sel.at(-1)!, /^s OK \[READ-WRITE\]/);
  const h0 = highest(sel);
  const all = modseqs(await a.command('f0', 'FETCH 1:* (MODSEQ)'));
  assert.equal(all.size, 4);
  for (const m of all.values()) assert.ok(m >= 1 && m <= h0, 'every MODSEQ is at most HIGHESTMODSEQ (RFC 7162 §3.1.2.1)');
  assert.deepEqual(modseqs(await a.command('f1', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${h0})`)), new Map(), 'nothing changed yet');

  await b.command('s', 'SELECT INBOX');
  assert.match((await b.command('t', 'STORE 2 +FLAGS (\\Flagged)')).at(-1)!, /^t OK/);
  const afterStore = await a.command('f2', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${h0})`);
  const changed = modseqs(afterStore);
  assert.deepEqual([...changed.keys()], [2], 'only message 2 changed');
  assert.ok(changed.get(2)! > h0);
  assert.ok(afterStore.some((l) => /^\* 2 FETCH \(.*FLAGS \(\\Flagged\)/.test(l)), afterStore.join('\n'));

  const h1 = changed.get(2)!;
  await setKeyword(ids[2]!, '$flagged', true); // message 3, as a webmail would
  const viaJmap = await a.command('f3', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${h1})`);
  const got = modseqs(viaJmap);
  assert.deepEqual([...got.keys()], [3], `only message 3 changed since ${h1}: ${viaJmap.join(' | ')}`);
  assert.ok(got.get(3)! > h1);
  assert.ok(viaJmap.some((l) => /^\* 3 FETCH \(UID 3 .*FLAGS \(\\Flagged\)/.test(l)), viaJmap.join('\n'));
  a.close();
  b.close();
});

test('STORE (UNCHANGEDSINCE) loses to a change racing in through JMAP: [MODIFIED], nothing written', async () => {
  const a = await login();
  await a.command('s', 'SELECT INBOX (CONDSTORE)');
  const m1 = modseqs(await a.command('f', 'FETCH 1 (MODSEQ)')).get(1)!;
  // Between the gateway's read of the mod-sequences and its Email/set, a webmail sets $junk on message 1.
  beforeConditionalSet = () => setKeyword(ids[0]!, '$junk', true);
  const before = conditionalSets;
  const r = await a.command('t', `STORE 1 (UNCHANGEDSINCE ${m1}) +FLAGS (\\Seen)`);
  assert.equal(r.at(-1), 't OK [MODIFIED 1] Conditional STORE failed');
  // One Email/set with ifInState went out (and JMAP refused it: stateMismatch); the retry re-read the
  // mod-sequences, found message 1 changed, and had nothing left to write.
  assert.equal(conditionalSets - before, 1, 'the STORE was guarded by ifInState');
  const accountId = await accountIdOf(bed);
  const [[, got]] = await jmap(bed, [['Email/get', { accountId, ids: [ids[0]], properties: ['keywords'] }, '0']]) as unknown as [[string, { list: Array<{ keywords: Record<string, boolean> }> }]];
  assert.deepEqual(got.list[0]!.keywords, { $junk: true }, '\\Seen was not stored');

  // The same STORE against the new mod-sequence succeeds and reports MODSEQ even though .SILENT (§3.1.3).
  const m2 = modseqs(await a.command('f2', 'FETCH 1 (MODSEQ)')).get(1)!;
  assert.ok(m2 > m1);
  const ok = await a.command('u', `STORE 1 (UNCHANGEDSINCE ${m2}) +FLAGS.SILENT (\\Seen)`);
  assert.equal(ok.at(-1), 'u OK STORE completed');
  const m3 = modseqs(ok).get(1);
  assert.ok(m3 !== undefined && m3 > m2, ok.join('\n'));
  a.close();
});

test('HIGHESTMODSEQ grows with each change and survives a gateway restart', async () => {
  const c = await login();
  const status = async (cl: RawClient, tag: string): Promise<number> => {
    const lines = await cl.command(tag, 'STATUS INBOX (HIGHESTMODSEQ MESSAGES)');
    const m = /^\* STATUS INBOX \(HIGHESTMODSEQ (\d+) MESSAGES \d+\)$/.exec(lines[0]!);
    assert.ok(m, lines.join('\n'));
    return Number(m[1]);
  };
  const h0 = await status(c, 'a');
  await c.command('x', 'APPEND INBOX {5+}\r\nhi\r\n');
  const h1 = await status(c, 'b');
  assert.ok(h1 > h0, `APPEND raises HIGHESTMODSEQ (${h0} -> ${h1})`);
  c.close();

  // A second gateway process over the same UID store file (the first one stops): the counter is persisted.
  await bed.gateway.close(1000);
  const uidStore = SqliteUidStore.open(join(bed.dir, 'uidmap.sqlite'));
  const gw = await startNodeGateway({
    host: '127.0.0.1', imapPort: 0, imapsPort: 0, dataDir: bed.dir, uidStore,
    authenticator: jmapBasicAuthenticator({ sessionUrl: `${bed.jmapUrl}/.well-known/jmap`, tenant: 'test', timeoutMs: 3000 }),
  });
  try {
    const d = await login(gw.imapPort!);
    assert.equal(await status(d, 'c'), h1, 'HIGHESTMODSEQ is the same after the restart');
    const sel = await d.command('s', 'SELECT INBOX (CONDSTORE)');
    assert.equal(highest(sel), h1);
    await d.command('t', 'STORE 1 +FLAGS (\\Answered)');
    assert.ok(await status(d, 'e') > h1, 'and keeps growing');
    d.close();
  } finally {
    await gw.close(1000);
    await uidStore.close();
  }
});
