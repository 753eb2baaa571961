/**
 * One mod-sequence per change, also for the gateway's own writes (RFC 7162 §3.1: the mod-sequence of a message is
 * raised when its metadata changes; §3.1.3: `STORE (UNCHANGEDSINCE n)` fails only for messages whose mod-sequence
 * is above n). After a session's own STORE (or a `\Seen`-setting FETCH) answered `MODSEQ (n)`, the next sync
 * (NOOP, another session's catch-up, SELECT) must not give the same message a second mod-sequence: Dovecot 2.3
 * answers `FETCH 1 (MODSEQ)` with the same n after a NOOP, and `STORE 1 (UNCHANGEDSINCE n)` succeeds.
 * Other writers' changes (a JMAP client, the same email seen in another mailbox, JMAP labels) still get a new one.
 */
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { fetches, modseqs } from '../helpers/fetch-lines.ts';

const N = 4;
const T0 = Date.UTC(2024, 0, 1);
const beds: TestBed[] = [];
const clients: RawClient[] = [];
afterEach(() => { for (const c of clients.splice(0)) c.close(); });
after(async () => { await Promise.all(beds.map((b) => b.close())); });

async function bedWith(): Promise<TestBed> {
  const bed = await startTestBed();
  beds.push(bed);
  for (let i = 1; i <= N; i++) {
    const raw = new TextEncoder().encode(`From: m${i}@example.org\r\nSubject: modseq ${i}\r\nMessage-ID: <ms${i}@example.org>\r\n\r\nbody ${i}\r\n`);
    bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(T0 + i * 1000) });
  }
  return bed;
}

async function login(bed: TestBed): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  clients.push(c);
  await c.line();
  await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
  return c;
}

const modseqOf = async (c: RawClient, seq: number): Promise<number> => {
  const got = modseqs(await c.command('m', `FETCH ${seq} (MODSEQ)`)).get(seq);
  assert.ok(got !== undefined, `no MODSEQ for ${seq}`);
  return got;
};

/** The JMAP email id of a message (OBJECTID EMAILID, RFC 8474). */
async function emailIdOf(c: RawClient, seq: number): Promise<string> {
  return /EMAILID \(([^)]+)\)/.exec((await c.command('o', `FETCH ${seq} (EMAILID)`))[0]!)![1]!;
}

async function setKeyword(bed: TestBed, id: string, keyword: string): Promise<void> {
  const accountId = await accountIdOf(bed);
  const [[name, res]] = await jmap(bed, [['Email/set', { accountId, update: { [id]: { [`keywords/${keyword}`]: true } } }, 'k']]) as [[string, Record<string, unknown>, string]];
  assert.equal(name, 'Email/set');
  assert.ok(res.updated && id in (res.updated as object), JSON.stringify(res));
}

test('after its own STORE: NOOP is silent, MODSEQ stays the one answered, UNCHANGEDSINCE with it succeeds', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  const b = await login(bed);
  await a.command('s', 'SELECT INBOX (CONDSTORE)');
  await b.command('s', 'SELECT INBOX (CONDSTORE)');
  const m0 = await modseqOf(a, 1);

  const stored = await a.command('t1', 'STORE 1 +FLAGS (\\Flagged)');
  assert.equal(stored.at(-1), 't1 OK STORE completed');
  const n = modseqs(stored).get(1)!;
  assert.ok(n > m0, `the change took a new mod-sequence (${m0} -> ${n})`);

  assert.deepEqual(fetches(await a.command('n1', 'NOOP')), [], 'Dovecot: nothing to report after the own STORE');
  assert.equal(await modseqOf(a, 1), n, 'FETCH MODSEQ still answers the value STORE reported (Dovecot)');
  // Another session learns of the change once, with the same mod-sequence.
  const seen = await b.command('n2', 'NOOP');
  assert.deepEqual(fetches(seen), [`* 1 FETCH (UID 1 FLAGS (\\Flagged) MODSEQ (${n}))`]);
  assert.equal(await modseqOf(b, 1), n);
  assert.equal(await modseqOf(a, 1), n, 'the other session\'s sync did not bump it again');

  // RFC 7162 §3.1.3: the message was not modified since n: the conditional STORE is performed.
  const cond = await a.command('t2', `STORE 1 (UNCHANGEDSINCE ${n}) +FLAGS (\\Answered)`);
  assert.equal(cond.at(-1), 't2 OK STORE completed', cond.join('\n'));
  const n2 = modseqs(cond).get(1)!;
  assert.ok(n2 > n);
  // A new session's SELECT sees the same values.
  const c = await login(bed);
  await c.command('s', 'SELECT INBOX (CONDSTORE)');
  assert.equal(await modseqOf(c, 1), n2);
});

test('a JMAP change racing between the own STORE and another session\'s catch-up gets its own new mod-sequence, the STORE\'s keeps its', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  const b = await login(bed);
  await a.command('s', 'SELECT INBOX (CONDSTORE)');
  await b.command('s', 'SELECT INBOX (CONDSTORE)');
  const id2 = await emailIdOf(a, 2);
  const n = modseqs(await a.command('t1', 'STORE 1 +FLAGS (\\Flagged)')).get(1)!;
  await a.command('n0', 'NOOP'); // the writer's own catch-up moves nothing
  await setKeyword(bed, id2, '$junk'); // a webmail, after the STORE

  const seen = await b.command('n1', 'NOOP'); // b's view predates both changes
  const got = modseqs(seen);
  assert.equal(got.get(1), n, `message 1 keeps the STORE's mod-sequence: ${seen.join(' | ')}`);
  assert.ok(got.get(2)! > n, 'the JMAP change is a later change');
  assert.ok(seen.some((l) => /^\* 2 FETCH \(.*FLAGS \(\$Junk\)/i.test(l)), seen.join('\n'));

  const own = await a.command('n2', 'NOOP');
  assert.deepEqual([...modseqs(own).keys()], [2], `the writer is told only of the other change: ${own.join(' | ')}`);
  assert.equal(modseqs(own).get(2), got.get(2), 'one change, one mod-sequence, whichever session saw it');
  assert.equal(await modseqOf(a, 1), n);
  const cond = await a.command('t2', `STORE 1 (UNCHANGEDSINCE ${n}) -FLAGS (\\Flagged)`);
  assert.equal(cond.at(-1), 't2 OK STORE completed', cond.join('\n'));
  const since = await b.command('f', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${got.get(2)!})`);
  assert.deepEqual([...modseqs(since).keys()], [1], `only the new STORE changed since: ${since.join(' | ')}`);
});

test('a FETCH that sets \\Seen: the MODSEQ it answered holds after NOOP and for UNCHANGEDSINCE', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  await a.command('s', 'SELECT INBOX (CONDSTORE)');
  const m0 = await modseqOf(a, 3);
  const read = await a.command('r', 'FETCH 3 (BODY[TEXT])');
  assert.match(read.join('\n'), /FLAGS \(\\Seen\)/);
  const n = Number(/ MODSEQ \((\d+)\)\)$/m.exec(read.join('\n'))?.[1]); // the literal splits the FETCH line
  assert.ok(n > m0, read.join('\n'));
  assert.deepEqual(fetches(await a.command('n', 'NOOP')), []);
  assert.equal(await modseqOf(a, 3), n);
  const since = await a.command('f', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${n})`);
  assert.deepEqual(fetches(since), [], 'CHANGEDSINCE the answered value: nothing changed');
  const cond = await a.command('t', `STORE 3 (UNCHANGEDSINCE ${n}) +FLAGS (\\Flagged)`);
  assert.equal(cond.at(-1), 't OK STORE completed', cond.join('\n'));
});

test('an email in two mailboxes (JMAP labels) flagged through one: the other mailbox\'s session sees it with a new MODSEQ', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  await a.command('c', 'CREATE Other');
  const accountId = await accountIdOf(bed);
  const [[, q]] = await jmap(bed, [['Mailbox/query', { accountId, filter: { name: 'Other' } }, 'q']]) as [[string, { ids: string[] }, string]];
  const other = q.ids[0]!;
  await a.command('s', 'SELECT INBOX (CONDSTORE)');
  const id = await emailIdOf(a, 2);
  const [[, set]] = await jmap(bed, [['Email/set', { accountId, update: { [id]: { [`mailboxIds/${other}`]: true } } }, 'm']]) as [[string, Record<string, unknown>, string]];
  assert.ok(set.updated && id in (set.updated as object), JSON.stringify(set));
  await a.command('n0', 'NOOP');

  const b = await login(bed);
  const sel = await b.command('s', 'SELECT Other (CONDSTORE)');
  assert.ok(sel.includes('* 1 EXISTS'), sel.join('\n'));
  const before = await modseqOf(b, 1);

  const n = modseqs(await a.command('t', 'STORE 2 +FLAGS (\\Flagged)')).get(2)!;
  const seen = await b.command('n', 'NOOP');
  const got = modseqs(seen).get(1);
  assert.ok(seen.some((l) => /^\* 1 FETCH \(.*FLAGS \(\\Flagged\)/.test(l)), `the change reaches the other mailbox: ${seen.join(' | ')}`);
  assert.ok(got !== undefined && got > before, `with a new mod-sequence of that mailbox (${before} -> ${got})`);
  assert.equal(await modseqOf(b, 1), got);
  assert.equal(await modseqOf(a, 2), n, 'and the writer\'s mailbox keeps one');
  const st = await b.command('u', `STORE 1 (UNCHANGEDSINCE ${before}) +FLAGS (\\Seen)`);
  assert.equal(st.at(-1), 'u OK [MODIFIED 1] Conditional STORE failed', 'the message was modified since the value shown before');
});

test('COPY (JMAP label) leaves the source messages\' MODSEQ alone; MOVE\'s destination copies keep the one they got', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  await a.command('c', 'CREATE Archive');
  const b = await login(bed);
  await b.command('s', 'SELECT Archive (CONDSTORE)');
  await a.command('s', 'SELECT INBOX (CONDSTORE)');
  const m1 = await modseqOf(a, 1);
  const copied = await a.command('k', 'COPY 1 Archive');
  assert.match(copied.at(-1)!, /^k OK \[COPYUID \d+ 1 1\]/);
  // RFC 7162 §3.1: the source message's metadata did not change (Dovecot: its MODSEQ stays).
  assert.deepEqual(fetches(await a.command('n1', 'NOOP')), []);
  assert.equal(await modseqOf(a, 1), m1, 'the source keeps its MODSEQ');
  const cond = await a.command('t', `STORE 1 (UNCHANGEDSINCE ${m1}) +FLAGS (\\Seen)`);
  assert.equal(cond.at(-1), 't OK STORE completed', cond.join('\n'));

  const arrived = await b.command('n2', 'NOOP');
  assert.ok(arrived.includes('* 1 EXISTS'), arrived.join('\n'));
  const c1 = await modseqOf(b, 1);
  // A MOVE into Archive: b learns of the new message, whose MODSEQ then stays put.
  const moved = await a.command('v', 'MOVE 2 Archive');
  assert.equal(moved.at(-1), 'v OK MOVE completed', moved.join('\n'));
  const more = await b.command('n3', 'NOOP');
  assert.ok(more.includes('* 2 EXISTS'), more.join('\n'));
  const c2 = await modseqOf(b, 2);
  assert.ok(c2 > c1);
  await a.command('n4', 'NOOP');
  assert.deepEqual(fetches(await b.command('n5', 'NOOP')), []);
  assert.equal(await modseqOf(b, 2), c2);
  assert.equal(await modseqOf(b, 1), c1, 'the first copy\'s MODSEQ moved only with a real change');
});
