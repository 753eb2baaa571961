/**
 * STORE in few JMAP requests (DESIGN.md rule 8), with the answers RFC 9051 §6.4.6 and RFC 7162 §3.1 require.
 *
 * - A keyword STORE (FLAGS, +FLAGS, -FLAGS, no UNCHANGEDSINCE) is ONE request: the `Email/set` patch needs no
 *   current keywords, and the `Email/get` before it in the same request tells what really changed.
 * - A `\Deleted`-only .SILENT STORE without CONDSTORE is NO request: `\Deleted` lives in the gateway (DESIGN.md
 *   rule 6) and .SILENT sends nothing back.
 * - Setting a flag already set is no change (RFC 7162 §3.1): no new mod-sequence.
 * - A JMAP client changing the same message just before, or between the read and the write of that one request
 *   (the store serves requests concurrently): the client still sees the message's real flags, and a change it was
 *   not told of gets a mod-sequence above the one the STORE answered (RFC 7162 §3.1: CHANGEDSINCE must find it).
 * - A store refusing one email undoes everything, `\Deleted` included (DESIGN.md rule 10, RFC 9051 §6.4.6).
 * - RFC 4314 §4: rights are checked for the flags a STORE modifies (`+FLAGS (\Seen)` on a seen message passes
 *   without the right to set `\Seen`).
 * - A STORE on many messages reads first and writes only what changes (Cyrus 3.6 counts any update as a change).
 */
import { after, afterEach, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { fetches, modseqs } from '../helpers/fetch-lines.ts';

type Call = [string, Record<string, unknown>, string];

let bed: TestBed;
let accountId: string;
/** Method names of each JMAP API request the gateway sent. */
const log: string[][] = [];
/** The email ids each `Email/set` the gateway sent updates. */
const updates: string[][] = [];
/** Runs before the gateway's next request carrying an `Email/set` is sent (then clears itself): a racing writer. */
let beforeSet: (() => Promise<void>) | null = null;
/** Splits the gateway's next `Email/get` + `Email/set` request in two, running this between them (then clears itself). */
let betweenGetAndSet: (() => Promise<void>) | null = null;
/** Rewrites the gateway's next request carrying an `Email/set` (then clears itself). */
let rewriteSet: ((calls: Call[]) => void) | null = null;
/** Mailbox id -> the `myRights` the store's Mailbox/get answers are rewritten to (a mailbox shared with fewer rights). */
const rights = new Map<string, Record<string, boolean>>();
const clients: RawClient[] = [];
const enc = new TextEncoder();

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => async (input, init) => {
      if (typeof init?.body !== 'string') return inner(input, init);
      const req = JSON.parse(init.body) as { methodCalls: Call[] };
      const names = req.methodCalls.map((c) => c[0]);
      log.push(names);
      for (const [name, args] of req.methodCalls) if (name === 'Email/set' && args.update) updates.push(Object.keys(args.update));
      if (names.includes('Email/set')) {
        const run = beforeSet;
        beforeSet = null;
        if (run) await run();
        const rewrite = rewriteSet;
        rewriteSet = null;
        if (rewrite) { rewrite(req.methodCalls); init = { ...init, body: JSON.stringify(req) }; }
        const between = betweenGetAndSet;
        if (between && names.length === 2 && names[0] === 'Email/get') {
          betweenGetAndSet = null;
          const part = async (calls: Call[]) => (await (await inner(input, { ...init, body: JSON.stringify({ ...req, methodCalls: calls }) })).json()) as { methodResponses: Call[] };
          const got = await part([req.methodCalls[0]!]);
          await between();
          const set = await part([req.methodCalls[1]!]);
          return Response.json({ ...set, methodResponses: [...got.methodResponses, ...set.methodResponses] });
        }
      }
      const res = await inner(input, init);
      if (rights.size === 0 || !names.includes('Mailbox/get')) return res;
      const json = (await res.json()) as { methodResponses: Call[] };
      for (const [name, args] of json.methodResponses) {
        if (name !== 'Mailbox/get') continue;
        for (const m of (args.list ?? []) as Array<Record<string, unknown>>) {
          const r = rights.get(String(m.id));
          if (r) m.myRights = { ...(m.myRights as object), ...r };
        }
      }
      return Response.json(json, { status: res.status });
    },
  });
  accountId = await accountIdOf(bed);
});
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
  beforeSet = betweenGetAndSet = rewriteSet = null;
});
after(() => bed.close());

/** A new mailbox with `count` messages (receivedAt ascending, so UIDs 1..count), keywords by position; email ids. */
async function mailboxWith(name: string, count: number, keywords: Record<number, string[]> = {}): Promise<{ id: string; emails: string[] }> {
  const [, r] = (await jmap(bed, [['Mailbox/set', { accountId, create: { m: { name } } }, '0']]))[0]!;
  const id = String((r.created as Record<string, { id: string }>).m!.id);
  const emails: string[] = [];
  for (let i = 1; i <= count; i++) {
    const raw = enc.encode(`From: a@example.org\r\nSubject: ${name} ${i}\r\nMessage-ID: <${name}-${i}@example.org>\r\n\r\nBody ${i}\r\n`);
    emails.push(bed.store.importMessage(bed.user, name, raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000), ...(keywords[i] ? { keywords: keywords[i] } : {}) }).emailId);
  }
  return { id, emails };
}

async function session(select?: string): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  clients.push(c);
  await c.line();
  await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`);
  if (select) assert.match((await c.command('S', `SELECT ${select}`)).at(-1)!, /^S OK /);
  return c;
}

/** One command, with the JMAP requests it cost (their method names). */
async function counted(c: RawClient, tag: string, text: string): Promise<{ lines: string[]; requests: string[][] }> {
  const start = log.length;
  const lines = await c.command(tag, text);
  return { lines, requests: log.slice(start) };
}

/** The keywords JMAP holds for each email, sorted. */
async function keywordsOf(emails: string[]): Promise<string[][]> {
  const [, r] = (await jmap(bed, [['Email/get', { accountId, ids: emails, properties: ['keywords'] }, '0']]))[0]!;
  const byId = new Map((r.list as Array<{ id: string; keywords: Record<string, true> }>).map((e) => [e.id, Object.keys(e.keywords).sort()]));
  return emails.map((id) => byId.get(id)!);
}

async function setKeywords(id: string, patch: Record<string, true | null>): Promise<void> {
  const update = Object.fromEntries(Object.entries(patch).map(([k, v]) => [`keywords/${k}`, v]));
  const [[, res]] = await jmap(bed, [['Email/set', { accountId, update: { [id]: update } }, 'w']]) as [[string, Record<string, unknown>, string]];
  assert.ok(res.updated && id in (res.updated as object), JSON.stringify(res));
}

test('a keyword STORE is one request (Email/get + Email/set); a \\Deleted-only .SILENT STORE is none', async () => {
  const box = await mailboxWith('counts', 3, { 1: ['$seen'], 3: ['$flagged'] });
  const c = await session('counts');
  await c.command('f0', 'FETCH 1:3 FLAGS'); // the client knows the flags it changes (and so does the gateway)

  const flag = await counted(c, 'a', 'UID STORE 2 +FLAGS.SILENT (\\Flagged)');
  assert.deepEqual(flag.lines, ['a OK STORE completed']);
  assert.deepEqual(flag.requests, [['Email/get', 'Email/set']]);

  const unseen = await counted(c, 'b', 'UID STORE 1 -FLAGS (\\Seen)');
  assert.deepEqual(unseen.lines, ['* 1 FETCH (UID 1 FLAGS ())', 'b OK STORE completed']);
  assert.deepEqual(unseen.requests, [['Email/get', 'Email/set']]);

  const replace = await counted(c, 'c', 'STORE 3 FLAGS (\\Answered \\Seen)');
  assert.deepEqual(replace.lines, ['* 3 FETCH (FLAGS (\\Answered \\Seen))', 'c OK STORE completed']);
  assert.equal(replace.requests.length, 1);

  for (const [tag, cmd] of [['d', 'UID STORE 2 +FLAGS.SILENT (\\Deleted)'], ['e', 'UID STORE 3 +FLAGS.SILENT (\\Deleted)'], ['f', 'UID STORE 2 -FLAGS.SILENT (\\Deleted)'], ['g', 'UID STORE 2 +FLAGS.SILENT (\\Deleted)']] as const) {
    const r = await counted(c, tag, cmd);
    assert.deepEqual(r.lines, [`${tag} OK STORE completed`]);
    assert.deepEqual(r.requests, [], `${cmd}: no JMAP request`);
  }
  // Without .SILENT the flags are sent (RFC 9051 §6.4.6): the keywords are read, once.
  const loud = await counted(c, 'h', 'UID STORE 1 +FLAGS (\\Deleted)');
  assert.deepEqual(loud.lines, ['* 1 FETCH (UID 1 FLAGS (\\Deleted))', 'h OK STORE completed']);
  assert.equal(loud.requests.length, 1);

  assert.deepEqual(await keywordsOf(box.emails), [[], ['$flagged'], ['$answered', '$seen']]);
  const expected = ['* 1 FETCH (FLAGS (\\Deleted))', '* 2 FETCH (FLAGS (\\Deleted \\Flagged))', '* 3 FETCH (FLAGS (\\Answered \\Deleted \\Seen))'];
  const other = await session('counts');
  assert.deepEqual((await other.command('f', 'FETCH 1:3 FLAGS')).slice(0, -1), expected, 'another session sees every change');
  // This session is not told its own changes again (RFC 9051 §6.4.6: with .SILENT it determined them itself).
  assert.deepEqual(fetches(await c.command('n', 'NOOP')), []);
  assert.deepEqual((await c.command('i', 'FETCH 1:3 FLAGS')).slice(0, -1), expected);
});

test('keywords not known, or a change that changes nothing: read first, and nothing written where nothing changes', async () => {
  await mailboxWith('predict', 2, { 2: ['$flagged'] });
  const c = await session('predict');
  const unknown = await counted(c, 'a', 'UID STORE 1 +FLAGS.SILENT (\\Flagged)'); // never shown: not known
  assert.deepEqual(unknown.requests, [['Email/get'], ['Email/get', 'Email/set']]);
  await c.command('f', 'FETCH 2 FLAGS');
  // Already set: a store may count an update that changes nothing as a change (Cyrus 3.6 moves its state), and a
  // later sync would then give the message a MODSEQ for nothing (RFC 7162 §3.1): no write at all.
  const noop = await counted(c, 'b', 'UID STORE 2 +FLAGS.SILENT (\\Flagged)');
  assert.deepEqual(noop.requests, [['Email/get']]);
  const known = await counted(c, 'c', 'UID STORE 1 -FLAGS.SILENT (\\Flagged)'); // learned from its own STORE
  assert.deepEqual(known.requests, [['Email/get', 'Email/set']]);
});

test('a \\Deleted-only .SILENT STORE (no request) does not hide a JMAP change the client was not told of', async () => {
  const box = await mailboxWith('silent-deleted', 2);
  const c = await session('silent-deleted');
  assert.deepEqual((await c.command('f', 'FETCH 1:2 FLAGS')).slice(0, -1), ['* 1 FETCH (FLAGS ())', '* 2 FETCH (FLAGS ())']);
  await setKeywords(box.emails[0]!, { $junk: true }); // a webmail, not yet reported to the client
  const r = await counted(c, 'a', 'STORE 1:2 +FLAGS.SILENT (\\Deleted)');
  assert.deepEqual(r.requests, []);
  // RFC 9051 §6.4.6 Note / §7.5.2: the other change is reported; message 2's flags are those the client determined.
  assert.deepEqual(fetches(await c.command('n', 'NOOP')), ['* 1 FETCH (UID 1 FLAGS (\\Deleted $Junk))']);
  assert.deepEqual(fetches(await c.command('m', 'NOOP')), []);
});

test('CONDSTORE: +FLAGS of a flag already set keeps the MODSEQ; the one change gets one new MODSEQ, not a second', async () => {
  await mailboxWith('modseq', 2, { 1: ['$flagged'] });
  const c = await session('modseq (CONDSTORE)');
  const m0 = modseqs(await c.command('m', 'FETCH 1:2 (MODSEQ)'));
  const watcher = await session();
  const highest = async () => Number(/HIGHESTMODSEQ (\d+)/.exec((await watcher.command('s', 'STATUS modseq (HIGHESTMODSEQ)'))[0]!)![1]);
  const h0 = await highest();

  // RFC 7162 §3.1: setting a flag already set is no change.
  assert.deepEqual(await c.command('a', 'STORE 1 +FLAGS.SILENT (\\Flagged)'), ['a OK STORE completed']);
  assert.deepEqual(await c.command('b', 'STORE 1 +FLAGS (\\Flagged)'), [`* 1 FETCH (FLAGS (\\Flagged) MODSEQ (${m0.get(1)}))`, 'b OK STORE completed']);
  assert.equal(await highest(), h0);

  const both = await c.command('c', 'STORE 1:2 +FLAGS (\\Flagged)');
  const m1 = modseqs(both);
  assert.equal(m1.get(1), m0.get(1), 'message 1 unchanged: its MODSEQ stays');
  assert.ok(m1.get(2)! > h0, 'message 2 changed: a new MODSEQ');
  assert.deepEqual(fetches(both), [`* 1 FETCH (FLAGS (\\Flagged) MODSEQ (${m0.get(1)}))`, `* 2 FETCH (FLAGS (\\Flagged) MODSEQ (${m1.get(2)}))`]);
  assert.equal(await highest(), m1.get(2));
  // No second mod-sequence for the same change: not at NOOP, not in another session's sync.
  assert.deepEqual(fetches(await c.command('n', 'NOOP')), []);
  assert.deepEqual(modseqs(await c.command('d', 'FETCH 1:2 (MODSEQ)')), m1);
  assert.equal(await highest(), m1.get(2));
  assert.equal((await c.command('e', `STORE 2 (UNCHANGEDSINCE ${m1.get(2)}) +FLAGS.SILENT (\\Seen)`)).at(-1), 'e OK STORE completed');
});

test('a JMAP change landing just before the STORE request: the FETCH shows both, JMAP has both', async () => {
  const box = await mailboxWith('race-before', 1);
  const c = await session('race-before (CONDSTORE)');
  await c.command('f', 'FETCH 1 FLAGS');
  beforeSet = () => setKeywords(box.emails[0]!, { $junk: true });
  const r = await c.command('a', 'STORE 1 +FLAGS (\\Flagged)');
  assert.equal(beforeSet, null, 'the racing change ran');
  assert.match(fetches(r)[0]!, /^\* 1 FETCH \(FLAGS \(\\Flagged \$Junk\) MODSEQ \(\d+\)\)$/);
  const m = modseqs(r).get(1)!;
  assert.deepEqual(await keywordsOf(box.emails), [['$flagged', '$junk']]);
  for (const l of fetches(await c.command('n', 'NOOP'))) assert.match(l, /FLAGS \(\\Flagged \$Junk\)/, 'nothing else to tell');
  const f = await c.command('g', 'FETCH 1 (FLAGS MODSEQ)');
  assert.match(f[0]!, /^\* 1 FETCH \(FLAGS \(\\Flagged \$Junk\) MODSEQ \(\d+\)\)$/);
  assert.ok(modseqs(f).get(1)! >= m);
});

test('a JMAP change between the read and the write of the STORE request: real flags, and a MODSEQ above the STORE\'s for it', async () => {
  const box = await mailboxWith('race-between', 2);
  const c = await session('race-between (CONDSTORE)');
  await c.command('f', 'FETCH 1:2 FLAGS');

  betweenGetAndSet = () => setKeywords(box.emails[0]!, { $junk: true });
  const r = await c.command('a', 'STORE 1 +FLAGS (\\Flagged)');
  assert.equal(betweenGetAndSet, null, 'the request was split around the racing change');
  assert.match(fetches(r)[0]!, /^\* 1 FETCH \(FLAGS \(\\Flagged \$Junk\) MODSEQ \(\d+\)\)$/, 'the flags the message has, not those read before the race');

  betweenGetAndSet = () => setKeywords(box.emails[1]!, { $junk: true });
  const s = await c.command('b', 'STORE 2 +FLAGS.SILENT (\\Flagged)');
  assert.equal(betweenGetAndSet, null);
  assert.match(fetches(s)[0]!, /^\* 2 FETCH \(MODSEQ \(\d+\)\)$/);
  const m = modseqs(s).get(2)!;
  // The client never saw $Junk on message 2: it is told, with a mod-sequence above the one it has (RFC 7162 §3.1).
  const told = fetches(await c.command('n', 'NOOP')).filter((l) => l.startsWith('* 2 '));
  assert.equal(told.length, 1, `message 2 reported: ${told.join(' | ')}`);
  assert.match(told[0]!, /FLAGS \(\\Flagged \$Junk\) MODSEQ \((\d+)\)/);
  assert.ok(modseqs(told).get(2)! > m, 'CHANGEDSINCE the STORE\'s MODSEQ finds the racing change');
  assert.deepEqual(await keywordsOf(box.emails), [['$flagged', '$junk'], ['$flagged', '$junk']]);
});

test('a store refusing one email: NO, and no keyword nor \\Deleted changed on any message', async () => {
  const box = await mailboxWith('refuse', 3, { 1: ['$seen'], 3: ['$answered', 'custom'] });
  const c = await session('refuse');
  const seen = (await c.command('f', 'FETCH 1:3 FLAGS')).slice(0, -1);
  const jmapBefore = await keywordsOf(box.emails);
  const refuse = (victim: string) => (calls: Call[]) => {
    const update = calls.find((x) => x[0] === 'Email/set')![1].update as Record<string, Record<string, unknown>>;
    update[victim] = { 'keywords/$flagged': 5 }; // not a valid patch value: the store refuses this email alone
  };
  rewriteSet = refuse(box.emails[2]!);
  const r = await counted(c, 'a', 'STORE 1:3 +FLAGS (\\Flagged \\Deleted)');
  assert.equal(rewriteSet, null, 'the refusal was injected');
  assert.match(r.lines.at(-1)!, /^a NO /);
  assert.deepEqual(fetches(r.lines), []);
  assert.deepEqual(r.requests, [['Email/get', 'Email/set'], ['Email/set']], 'the write, then the undo of what it did');
  rewriteSet = refuse(box.emails[1]!);
  assert.match((await c.command('b', 'STORE 1:3 FLAGS (\\Draft)')).at(-1)!, /^b NO /);
  assert.deepEqual(await keywordsOf(box.emails), jmapBefore);
  assert.deepEqual((await c.command('g', 'FETCH 1:3 FLAGS')).slice(0, -1), seen);
  assert.deepEqual((await (await session('refuse')).command('h', 'FETCH 1:3 FLAGS')).slice(0, -1), seen);
});

test('an email already gone from JMAP: skipped by a keyword STORE; a .SILENT \\Deleted costs nothing and the message is expunged', async () => {
  const box = await mailboxWith('gone', 2);
  const c = await session('gone');
  await c.command('f0', 'FETCH 1:2 FLAGS');
  await jmap(bed, [['Email/set', { accountId, destroy: [box.emails[0]] }, 'd']]);
  const r = await counted(c, 'a', 'STORE 1:2 +FLAGS (\\Flagged)');
  assert.deepEqual(r.lines, ['* 2 FETCH (FLAGS (\\Flagged))', 'a OK STORE completed']);
  assert.equal(r.requests.length, 1);
  const d = await counted(c, 'b', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.deepEqual(d, { lines: ['b OK STORE completed'], requests: [] });
  assert.deepEqual(await c.command('n', 'NOOP'), ['* 1 EXPUNGE', 'n OK NOOP completed']);
  assert.deepEqual(await c.command('x', 'EXPUNGE'), ['x OK EXPUNGE completed']);
  assert.deepEqual(await keywordsOf([box.emails[1]!]), [['$flagged']]);
});

test('without the right to set \\Seen (RFC 8621 myRights): +FLAGS (\\Seen) passes where it changes nothing, is NOPERM where it would', async () => {
  const box = await mailboxWith('no-seen', 2, { 1: ['$seen'] });
  rights.set(box.id, { maySetSeen: false });
  try {
    const c = await session('no-seen');
    await c.command('f0', 'FETCH 1:2 FLAGS');
    assert.deepEqual(await c.command('a', 'STORE 1 +FLAGS (\\Seen)'), ['* 1 FETCH (FLAGS (\\Seen))', 'a OK STORE completed']);
    assert.match((await c.command('b', 'STORE 2 +FLAGS (\\Seen)')).at(-1)!, /^b NO \[NOPERM\] /);
    const flag = await counted(c, 'c', 'STORE 2 +FLAGS (\\Flagged)');
    assert.deepEqual(flag.lines, ['* 2 FETCH (FLAGS (\\Flagged))', 'c OK STORE completed']);
    assert.equal(flag.requests.length, 1, 'the rights cover every change of this one: written at once');
    assert.deepEqual(await keywordsOf(box.emails), [['$seen'], ['$flagged']]);
  } finally {
    rights.delete(box.id);
  }
});

test('a STORE on many messages reads first and writes only the emails it changes (a store may count any update as a change)', async () => {
  const n = 150;
  const flagged = Object.fromEntries(Array.from({ length: n - 1 }, (_, i) => [i + 1, ['$flagged']]));
  const box = await mailboxWith('many', n, flagged);
  const c = await session('many');
  const start = updates.length;
  assert.deepEqual(await c.command('a', `STORE 1:${n} +FLAGS.SILENT (\\Flagged)`), ['a OK STORE completed']);
  assert.deepEqual(updates.slice(start), [[box.emails[n - 1]]], 'the one email not yet flagged, nothing else');
  assert.deepEqual((await keywordsOf(box.emails)).filter((k) => k.join() !== '$flagged'), []);
});
