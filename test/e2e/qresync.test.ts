/**
 * QRESYNC (RFC 7162 §3.2) end to end: clients that keep a cache by UID (a byte-level one and imapflow with
 * `qresync: true`) synchronize, go away while 1,000 changes happen (flag changes, expunges and arrivals, some made
 * directly in JMAP as a webmail would, some by another IMAP session), come back with SELECT (QRESYNC ...), and
 * must end with exactly the server's state, having updated their cache only from the responses (§6: VANISHED
 * (EARLIER) and FETCH for known messages, then a UID FETCH of the new ones). Also: VANISHED instead of EXPUNGE
 * between live sessions (§3.2.10.2) at NOOP and IDLE, the complete expunge history (the UID store never trims it),
 * and HIGHESTMODSEQ kept below an expunge that a session has not reported yet (§3.2, §6).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { uidsOf } from '../helpers/imap-values.ts';

let bed: TestBed;
let accountId = '';
let inboxId = '';
let archiveId = '';
const INITIAL = 300;
const CHANGES = 1000;

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`From: r${i}@example.org\r\nSubject: resync ${i}\r\nMessage-ID: <r${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

/** JMAP requests the gateway made (DESIGN.md rule 8), with the method names of each. */
const requests: string[][] = [];

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      const body = typeof init?.body === 'string' ? init.body : '';
      requests.push([...body.matchAll(/\["([A-Za-z]+\/[a-z]+)"/g)].map((m) => m[1]!));
      return inner(input, init);
    }) as typeof fetch,
  });
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 1; i <= INITIAL; i++) bed.store.importMessage(bed.user, 'inbox', message(i), { receivedAt: new Date(t0 + i * 1000), keywords: i % 7 === 0 ? ['$seen'] : [] });
  accountId = await accountIdOf(bed);
  const got = (await jmap(bed, [['Mailbox/get', { accountId, properties: ['role'] }, '0']]))[0]![1];
  const boxes = got.list as Array<{ id: string; role: string | null }>;
  inboxId = boxes.find((b) => b.role === 'inbox')!.id;
  archiveId = boxes.find((b) => b.role === 'archive')!.id;
});
after(() => bed.close());

async function login(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
  return c;
}

function num(re: RegExp, lines: string[]): number {
  const m = lines.map((l) => re.exec(l)).find((x) => x);
  assert.ok(m, `${re} not in ${JSON.stringify(lines)}`);
  return Number(m[1]);
}

/** A client cache: UID -> flags (sorted, so sets compare). */
type Cache = Map<number, string[]>;

/** Apply FETCH (UID FLAGS) lines to a cache. */
function applyFetches(cache: Cache, lines: string[]): number {
  let n = 0;
  for (const l of lines) {
    const m = /^\* \d+ FETCH \(.*UID (\d+).*FLAGS \(([^)]*)\)/.exec(l);
    if (!m) continue;
    cache.set(Number(m[1]), m[2]!.split(' ').filter(Boolean).sort());
    n++;
  }
  return n;
}

/** The server's state as a fresh session without QRESYNC sees it. */
async function serverState(): Promise<Cache> {
  const c = await login();
  await c.command('s', 'EXAMINE INBOX');
  const cache: Cache = new Map();
  applyFetches(cache, await c.command('f', 'UID FETCH 1:* (FLAGS)', 20_000));
  c.close();
  return cache;
}

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function inboxEmailIds(): Promise<string[]> {
  const r = (await jmap(bed, [['Email/query', { accountId, filter: { inMailbox: inboxId }, limit: 5000 }, '0']]))[0]![1];
  return r.ids as string[];
}

/**
 * 1,000 changes to INBOX, interleaved at random: keyword changes in JMAP, flag changes by an IMAP session (some
 * `\Deleted`, which only the gateway keeps), expunges in JMAP (destroy, or a move to Archive), expunges by IMAP
 * (UID EXPUNGE), arrivals in JMAP and by IMAP APPEND.
 */
async function makeChanges(seed: number): Promise<{ expunged: number }> {
  const rand = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
  const b = await login();
  await b.command('e', 'ENABLE QRESYNC');
  await b.command('s', 'SELECT INBOX');
  let ids = await inboxEmailIds();
  let uids: number[] = [];
  const refreshUids = async (): Promise<void> => {
    const r = await b.command('u', 'UID SEARCH ALL');
    uids = (r.find((l) => l.startsWith('* SEARCH')) ?? '* SEARCH').split(' ').slice(2).map(Number);
  };
  await refreshUids();
  let expunged = 0;
  for (let i = 0; i < CHANGES; i++) {
    if (i % 25 === 0) {
      ids = await inboxEmailIds();
      await refreshUids();
    }
    const r = rand();
    if (r < 0.3) { // keyword change in JMAP
      const kw = pick(['$seen', '$flagged', '$answered', 'project-x']);
      await jmap(bed, [['Email/set', { accountId, update: { [pick(ids)]: { [`keywords/${kw}`]: rand() < 0.6 ? true : null } } }, '0']]);
    } else if (r < 0.55) { // flag change by another IMAP session
      const flag = pick(['\\Seen', '\\Flagged', '\\Deleted', '$Forwarded']);
      await b.command('f', `UID STORE ${pick(uids)} ${rand() < 0.6 ? '+' : '-'}FLAGS.SILENT (${flag})`);
    } else if (r < 0.7) { // expunge in JMAP: destroyed, or moved to another mailbox
      const id = pick(ids);
      const set = rand() < 0.5 ? { destroy: [id] } : { update: { [id]: { [`mailboxIds/${inboxId}`]: null, [`mailboxIds/${archiveId}`]: true } } };
      await jmap(bed, [['Email/set', { accountId, ...set }, '0']]);
      ids = ids.filter((x) => x !== id);
      expunged++;
    } else if (r < 0.8) { // expunge by IMAP
      const uid = pick(uids);
      await b.command('d', `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
      await b.command('x', `UID EXPUNGE ${uid}`);
      uids = uids.filter((u) => u !== uid);
      expunged++;
    } else if (r < 0.95) { // arrival in JMAP
      bed.store.importMessage(bed.user, 'inbox', message(10_000 + i), { keywords: rand() < 0.3 ? ['$flagged'] : [] });
    } else { // APPEND by IMAP
      const raw = new TextDecoder().decode(message(20_000 + i));
      await b.command('a', `APPEND INBOX (\\Seen) {${raw.length}+}\r\n${raw}`);
    }
  }
  b.close();
  return { expunged };
}

/** The byte-level client's first synchronization: every UID and its flags, UIDVALIDITY, HIGHESTMODSEQ, UIDNEXT. */
async function rawFirstSync(): Promise<{ cache: Cache; v: number; h: number; next: number }> {
  const c = await login();
  await c.command('e', 'ENABLE QRESYNC');
  const sel = await c.command('s', 'SELECT INBOX');
  const cache: Cache = new Map();
  applyFetches(cache, await c.command('f', 'UID FETCH 1:* (FLAGS)', 20_000));
  c.close();
  return { cache, v: num(/\[UIDVALIDITY (\d+)\]/, sel), h: num(/\[HIGHESTMODSEQ (\d+)\]/, sel), next: num(/\[UIDNEXT (\d+)\]/, sel) };
}

/** imapflow's first synchronization, keeping what a QRESYNC client keeps. */
async function flowFirstSync(): Promise<{ cache: Cache; v: bigint; h: bigint; next: number }> {
  const c = flow();
  await c.connect();
  const box = await c.mailboxOpen('INBOX');
  const cache: Cache = new Map();
  for await (const m of c.fetch('1:*', { uid: true, flags: true }, { uid: true })) cache.set(m.uid, [...(m.flags ?? [])].sort());
  await c.logout();
  return { cache, v: box.uidValidity, h: box.highestModseq!, next: box.uidNext };
}

function flow(): ImapFlow {
  return new ImapFlow({ host: bed.host, port: bed.imapPort, secure: false, doSTARTTLS: false, auth: { user: bed.user, pass: bed.password }, logger: false, qresync: true });
}

test('after 1,000 changes (JMAP and another IMAP session), SELECT (QRESYNC) brings a raw client and imapflow exactly to the server state', async () => {
  const raw = await rawFirstSync();
  const fl = await flowFirstSync();
  assert.equal(raw.cache.size, INITIAL);
  assert.deepEqual(fl.cache, raw.cache, 'both clients start from the same state');

  const { expunged } = await makeChanges(7162);
  assert.ok(expunged > 100, `the changes include expunges (${expunged})`);
  const truth = await serverState();

  // The byte-level client: §3.2.5.1 resync, then the new messages (§6 step 2).
  const c = await login();
  await c.command('e', 'ENABLE QRESYNC');
  const sel = await c.command('s', `SELECT INBOX (QRESYNC (${raw.v} ${raw.h}))`, 20_000);
  assert.match(sel.at(-1)!, /^s OK \[READ-WRITE\]/);
  const vanishedAt = sel.findIndex((l) => l.startsWith('* VANISHED (EARLIER) '));
  assert.ok(vanishedAt > 0, 'expunges reported as VANISHED (EARLIER)');
  assert.ok(sel.slice(0, vanishedAt).every((l) => !/^\* \d+ FETCH/.test(l)), 'VANISHED (EARLIER) before every FETCH (§3.2.6)');
  assert.ok(!sel.some((l) => /^\* \d+ EXPUNGE/.test(l)), 'no EXPUNGE responses');
  for (const u of uidsOf(sel[vanishedAt]!.slice('* VANISHED (EARLIER) '.length))) raw.cache.delete(u);
  const updated = applyFetches(raw.cache, sel);
  assert.ok(updated < truth.size, `only changed messages are reported (${updated} of ${truth.size})`);
  assert.ok(sel.filter((l) => /^\* \d+ FETCH/.test(l)).every((l) => /MODSEQ \(\d+\)/.test(l)), 'FETCH carries MODSEQ (§3.2.5.1)');
  applyFetches(raw.cache, await c.command('n', `UID FETCH ${raw.next}:* (FLAGS)`, 20_000));
  c.close();
  assert.deepEqual(new Map([...raw.cache].sort((a, b) => a[0] - b[0])), truth);

  // imapflow: the same, through its events.
  const f = flow();
  await f.connect();
  let notEarlier = 0;
  f.on('expunge', (e: { uid?: number; earlier?: boolean }) => {
    if (e.earlier !== true) notEarlier++;
    fl.cache.delete(e.uid!);
  });
  f.on('flags', (e: { uid?: number; flags: Set<string> }) => fl.cache.set(e.uid!, [...e.flags].sort()));
  const box = await f.mailboxOpen('INBOX', { uidValidity: fl.v, changedSince: fl.h });
  assert.equal(box.uidValidity, fl.v);
  for await (const m of f.fetch(`${fl.next}:*`, { uid: true, flags: true }, { uid: true })) fl.cache.set(m.uid, [...(m.flags ?? [])].sort());
  await f.logout();
  assert.equal(notEarlier, 0, 'only VANISHED (EARLIER) while opening');
  assert.deepEqual(new Map([...fl.cache].sort((a, b) => a[0] - b[0])), truth);
});

test('the expunge history is complete: QRESYNC from mod-sequence 1 reports every UID that ever left (never trimmed)', async () => {
  const c = await login();
  await c.command('e', 'ENABLE QRESYNC');
  const sel = await c.command('s', 'SELECT INBOX');
  const v = num(/\[UIDVALIDITY (\d+)\]/, sel);
  const next = num(/\[UIDNEXT (\d+)\]/, sel);
  const live = new Set((await c.command('u', 'UID SEARCH ALL')).find((l) => l.startsWith('* SEARCH'))!.split(' ').slice(2).map(Number));
  const again = await c.command('q', `SELECT INBOX (QRESYNC (${v} 1))`, 20_000);
  const line = again.find((l) => l.startsWith('* VANISHED (EARLIER) '))!;
  const gone = Array.from({ length: next - 1 }, (_, k) => k + 1).filter((u) => !live.has(u));
  assert.ok(gone.length > 100);
  assert.deepEqual(uidsOf(line.slice('* VANISHED (EARLIER) '.length)), gone);
  c.close();
});

test('§3.2.10.2: an expunge in one QRESYNC session, or in JMAP, reaches the other as VANISHED at NOOP and in IDLE', async () => {
  const a = await login();
  const b = await login();
  const old = await login(); // no QRESYNC: still EXPUNGE
  await a.command('e', 'ENABLE QRESYNC');
  await b.command('e', 'ENABLE QRESYNC');
  const existsA = num(/^\* (\d+) EXISTS/, await a.command('s', 'SELECT INBOX'));
  await b.command('s', 'SELECT INBOX');
  await old.command('s', 'SELECT INBOX');
  const all = (await b.command('u', 'UID SEARCH ALL')).find((l) => l.startsWith('* SEARCH'))!.split(' ').slice(2).map(Number);
  const [u1, u2, u3] = [all[3]!, all[4]!, all[10]!];

  const both = u2 === u1 + 1 ? `${u1}:${u2}` : `${u1},${u2}`;
  await b.command('d', `UID STORE ${u1},${u2} +FLAGS.SILENT (\\Deleted)`);
  const ex = await b.command('x', `UID EXPUNGE ${u1},${u2}`); // (the random changes left other \Deleted messages)
  assert.equal(ex[0], `* VANISHED ${both}`);
  assert.match(ex.at(-1)!, /^x OK \[HIGHESTMODSEQ \d+\]/);
  const noop = await a.command('n', 'NOOP');
  const rest = noop.filter((l) => !/^\* \d+ FETCH/.test(l));
  assert.equal(rest.length, 2, `no EXISTS: VANISHED counts down (§3.2.10.2): ${rest.join(' | ')}`);
  assert.equal(rest[0], `* VANISHED ${both}`);
  assert.match(rest[1]!, /^n OK \[HIGHESTMODSEQ \d+\] /, 'the new HIGHESTMODSEQ after VANISHED (RFC 7162 §6 example, as Dovecot)');
  assert.deepEqual((await old.command('n', 'NOOP')).filter((l) => l.includes('EXPUNGE')), ['* 5 EXPUNGE', '* 4 EXPUNGE']); // highest first, as refresh always did

  // Directly in JMAP (a webmail), seen during IDLE.
  const ids = await inboxEmailIds();
  const f = await a.command('f', `UID FETCH ${u3} (EMAILID)`);
  const emailId = /EMAILID \(([^)]+)\)/.exec(f[0]!)![1]!;
  assert.ok(ids.includes(emailId));
  a.write('i IDLE\r\n');
  assert.match(await a.line(), /^\+ /);
  await jmap(bed, [['Email/set', { accountId, destroy: [emailId] }, '0']]);
  assert.equal(await a.line(10_000), `* VANISHED ${u3}`);
  // VANISHED carries no mod-sequence: the new HIGHESTMODSEQ follows, untagged as IDLE's OK has none (as Dovecot).
  assert.match(await a.line(), /^\* OK \[HIGHESTMODSEQ \d+\] /);
  a.write('DONE\r\n');
  assert.deepEqual(await a.until('i'), ['i OK IDLE terminated']);
  const st = await a.command('c', 'SEARCH RETURN (COUNT) ALL');
  assert.equal(num(/COUNT (\d+)/, st), existsA - 3, 'the view lost exactly the three messages');
  for (const c of [a, b, old]) c.close();
});

test('§3.2 / §6: MODSEQ sent while another session\'s expunge is unreported comes with a lower HIGHESTMODSEQ', async () => {
  const a = await login();
  const b = await login();
  await a.command('e', 'ENABLE QRESYNC');
  const v = num(/\[UIDVALIDITY (\d+)\]/, await a.command('s', 'SELECT INBOX'));
  await b.command('s', 'SELECT INBOX');
  const all = (await b.command('u', 'UID SEARCH ALL')).find((l) => l.startsWith('* SEARCH'))!.split(' ').slice(2).map(Number);
  const [gone, kept, kept2] = [all[0]!, all[1]!, all[2]!];
  await b.command('d', `UID STORE ${gone} +FLAGS.SILENT (\\Deleted)`);
  await b.command('x', `UID EXPUNGE ${gone}`);

  // A's STORE cannot report the expunge (§7.5.1 allows it for UID STORE, but a client computing HIGHESTMODSEQ from
  // MODSEQ data would skip it): the answer carries HIGHESTMODSEQ below the expunge's mod-sequence.
  const st = await a.command('s1', `UID STORE ${kept} +FLAGS (\\Flagged)`);
  const modseq = num(/MODSEQ \((\d+)\)/, st);
  const h = num(/^\* OK \[HIGHESTMODSEQ (\d+)\]/, st);
  assert.ok(h < modseq, `HIGHESTMODSEQ ${h} below the MODSEQ ${modseq} sent`);
  const f = await a.command('f1', `UID FETCH ${kept2} (FLAGS) (CHANGEDSINCE 1)`);
  assert.ok(num(/^\* OK \[HIGHESTMODSEQ (\d+)\]/, f) <= h, 'FETCH (CHANGEDSINCE) too');
  // A UID this session still shows is not VANISHED (EARLIER) (its message count includes it): the next NOOP says VANISHED.
  const fv = await a.command('f2', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${h} VANISHED)`);
  assert.ok(!fv.some((l) => l.startsWith('* VANISHED')), fv.join('\n'));
  assert.deepEqual((await a.command('n', 'NOOP')).filter((l) => l.startsWith('* VANISHED')), [`* VANISHED ${gone}`]);
  a.close();

  // A client that trusted it loses nothing: resyncing from h reports the expunge and the flag change.
  const c = await login();
  await c.command('e', 'ENABLE QRESYNC');
  const sel = await c.command('q', `SELECT INBOX (QRESYNC (${v} ${h}))`);
  assert.ok(sel.includes(`* VANISHED (EARLIER) ${gone}`), sel.join('\n'));
  // (its MODSEQ may be higher than the STORE's: a later sync that saw the JMAP change may bump it again, sync.ts)
  const again = num(new RegExp(`^\\* 1 FETCH \\(UID ${kept} FLAGS \\([^)]*\\\\Flagged[^)]*\\) MODSEQ \\((\\d+)\\)\\)$`), sel);
  assert.ok(again >= modseq);
  // A session whose view is up to date gets no such HIGHESTMODSEQ.
  await c.command('s2', `UID STORE ${kept} -FLAGS (\\Flagged)`).then((r) => assert.ok(!r.some((l) => l.startsWith('* OK [HIGHESTMODSEQ')), r.join('\n')));
  b.close();
  c.close();
});

test('round trips (DESIGN.md rule 8): SELECT (QRESYNC) of an unchanged mailbox costs what a plain SELECT costs; changes add one Email/get', async () => {
  const c = await login();
  await c.command('e', 'ENABLE QRESYNC');
  const sel = await c.command('s', 'SELECT INBOX');
  const v = num(/\[UIDVALIDITY (\d+)\]/, sel);
  const h = num(/\[HIGHESTMODSEQ (\d+)\]/, sel);
  const cost = async (tag: string, text: string): Promise<{ lines: string[]; methods: string[][] }> => {
    const from = requests.length;
    const lines = await c.command(tag, text, 20_000);
    return { lines, methods: requests.slice(from) };
  };
  const plain = await cost('p', 'SELECT INBOX');
  const quick = await cost('q', `SELECT INBOX (QRESYNC (${v} ${h}))`);
  assert.ok(!quick.lines.some((l) => l.startsWith('* VANISHED') || /^\* \d+ FETCH/.test(l)), 'nothing changed');
  assert.equal(quick.methods.length, plain.methods.length, `QRESYNC SELECT ${JSON.stringify(quick.methods)} vs plain ${JSON.stringify(plain.methods)}`);

  // 50 keyword changes in one JMAP request: the resync reads their keywords once.
  const ids = (await inboxEmailIds()).slice(0, 50);
  await jmap(bed, [['Email/set', { accountId, update: Object.fromEntries(ids.map((id) => [id, { 'keywords/budget-mark': true }])) }, '0']]);
  const changed = await cost('r', `SELECT INBOX (QRESYNC (${v} ${h}))`);
  assert.equal(changed.lines.filter((l) => /^\* \d+ FETCH \(UID \d+ FLAGS \([^)]*budget-mark/.test(l)).length, 50);
  assert.ok(changed.methods.length <= plain.methods.length + 2, `sync's Email/get of the changes + one Email/get of keywords: ${JSON.stringify(changed.methods)}`);
  c.close();
});
