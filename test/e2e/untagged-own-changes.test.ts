/**
 * Untagged updates a session gets about its own writes versus other writers' (RFC 9051 §7.5.2, §6.4.6; RFC 7162
 * §3.1.3, §3.1.4.2 Example 14, §3.2, §3.2.4, §6). Expected answers come from the RFC text and from what Dovecot
 * 2.3 answers to the same commands (noted per assertion):
 * - a session is not told again, at NOOP or IDLE, the flags it was already shown (its STORE's FETCH, a FETCH
 *   FLAGS) or that it set itself with .SILENT on flags it had been shown; changes by another session, by JMAP
 *   (a webmail) and of the gateway-kept `\Deleted` still are;
 * - under CONDSTORE a .SILENT STORE that changed a message still answers `FETCH (MODSEQ)` (Example 14);
 * - a FETCH that sets `\Seen` answers with UID under QRESYNC (§3.2.4), and with a HIGHESTMODSEQ below an
 *   expunge this session has not reported yet (§3.2, as STORE does);
 * - under QRESYNC, expunges reported during IDLE are followed by `* OK [HIGHESTMODSEQ n]`, IDLE's tagged OK has no
 *   code (Dovecot; RFC 7162 asks nothing of IDLE);
 * - a COPY into the selected mailbox announces the copy with EXISTS in its own response (RFC 9051 §7.4.1,
 *   RFC 4315), also right after a Mailbox/get (LIST) and a JMAP change, and not again at the next NOOP.
 */
import { after, afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { fetches } from '../helpers/fetch-lines.ts';

const N = 8;
const T0 = Date.UTC(2024, 0, 1);
const beds: TestBed[] = [];
const clients: RawClient[] = [];
afterEach(() => { for (const c of clients.splice(0)) c.close(); });
after(async () => { await Promise.all(beds.map((b) => b.close())); });

async function bedWith(n = N): Promise<TestBed> {
  const bed = await startTestBed();
  beds.push(bed);
  for (let i = 1; i <= n; i++) {
    const raw = new TextEncoder().encode(`From: o${i}@example.org\r\nSubject: own ${i}\r\nMessage-ID: <own${i}@example.org>\r\n\r\nbody ${i}\r\n`);
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

const num = (re: RegExp, lines: string[]): number => {
  const m = lines.map((l) => re.exec(l)).find((x) => x);
  assert.ok(m, `${re} not in ${JSON.stringify(lines)}`);
  return Number(m[1]);
};

/** JMAP email id of a UID (OBJECTID EMAILID, RFC 8474). */
async function emailIdOf(c: RawClient, uid: number): Promise<string> {
  return /EMAILID \(([^)]+)\)/.exec((await c.command('o', `UID FETCH ${uid} (EMAILID)`))[0]!)![1]!;
}

test('own flag changes are not reported again at NOOP or IDLE; another session\'s, JMAP\'s and \\Deleted still are', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  const b = await login(bed);
  await a.command('s', 'SELECT INBOX');
  await b.command('s', 'SELECT INBOX');
  assert.equal(fetches(await a.command('f', 'FETCH 1:* (FLAGS)')).length, N);

  // STORE answered with FETCH FLAGS: the client has the flags (Dovecot: the NOOP after it is empty).
  assert.deepEqual(fetches(await a.command('a1', 'STORE 1 +FLAGS (\\Flagged)')), ['* 1 FETCH (FLAGS (\\Flagged))']);
  assert.deepEqual(fetches(await a.command('n1', 'NOOP')), []);
  // .SILENT: RFC 9051 §6.4.6 "the server SHOULD assume that the client has determined the updated value itself".
  assert.deepEqual(fetches(await a.command('a2', 'STORE 2 +FLAGS.SILENT (\\Answered)')), []);
  assert.deepEqual(fetches(await a.command('n2', 'NOOP')), []);
  // \Deleted (kept by the gateway, not in JMAP), own change, silent.
  await a.command('a3', 'STORE 3 +FLAGS.SILENT (\\Deleted)');
  assert.deepEqual(fetches(await a.command('n3', 'NOOP')), []);
  // A FETCH that set \Seen showed the new flags already.
  assert.match((await a.command('a4', 'FETCH 4 (BODY[TEXT])')).join('\n'), / FLAGS \(\\Seen\)\)$/m);
  assert.deepEqual(fetches(await a.command('n4', 'NOOP')), []);
  // Own change, then IDLE: nothing to report before `+ idling`.
  await a.command('a5', 'STORE 5 FLAGS ($projx)');
  a.write('i IDLE\r\n');
  assert.match(await a.line(), /^\+ /);

  // Another session's change reaches A during IDLE (RFC 9051 §7.5.2), its flags as they now are.
  await b.command('b1', 'STORE 1 +FLAGS.SILENT ($other)');
  assert.equal(await a.line(10_000), '* 1 FETCH (UID 1 FLAGS (\\Flagged $other))');
  a.write('DONE\r\n');
  assert.deepEqual(await a.until('i'), ['i OK IDLE terminated']);

  // A change made directly in JMAP (a webmail) reaches A at NOOP.
  const id6 = await emailIdOf(a, 6);
  const accountId = await accountIdOf(bed);
  await jmap(bed, [['Email/set', { accountId, update: { [id6]: { 'keywords/$flagged': true } } }, '0']]);
  assert.deepEqual(fetches(await a.command('n5', 'NOOP')), ['* 6 FETCH (UID 6 FLAGS (\\Flagged))']);
  // Another session's \Deleted reaches A; A's own one on the same message is not repeated afterwards.
  await b.command('b2', 'STORE 7 +FLAGS.SILENT (\\Deleted)');
  assert.deepEqual(fetches(await a.command('n6', 'NOOP')), ['* 7 FETCH (UID 7 FLAGS (\\Deleted))']);
  await a.command('a6', 'STORE 7 -FLAGS.SILENT (\\Deleted)');
  assert.deepEqual(fetches(await a.command('n7', 'NOOP')), []);
  // B was never shown A's changes: its NOOP reports them all (flags as they are now).
  assert.deepEqual(fetches(await b.command('b3', 'NOOP')).sort(), [
    '* 1 FETCH (UID 1 FLAGS (\\Flagged $other))', '* 2 FETCH (UID 2 FLAGS (\\Answered))', '* 3 FETCH (UID 3 FLAGS (\\Deleted))',
    '* 4 FETCH (UID 4 FLAGS (\\Seen))', '* 5 FETCH (UID 5 FLAGS ($projx))', '* 6 FETCH (UID 6 FLAGS (\\Flagged))', '* 7 FETCH (UID 7 FLAGS ())',
  ]);
});

test('.SILENT on a message another session changed meanwhile: the other change is still reported (RFC 9051 §6.4.6 Note)', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  const b = await login(bed);
  await a.command('s', 'SELECT INBOX');
  await b.command('s', 'SELECT INBOX');
  await a.command('f', 'FETCH 1:* (FLAGS)');
  await b.command('b', 'STORE 2 +FLAGS.SILENT ($other)');
  // A has not caught up (STORE may not report it, RFC 9051 §7.5.1 allows it; the gateway reports at NOOP).
  await a.command('a', 'STORE 2 +FLAGS.SILENT (\\Flagged)');
  assert.deepEqual(fetches(await a.command('n', 'NOOP')), ['* 2 FETCH (UID 2 FLAGS (\\Flagged $other))']);
  assert.deepEqual(fetches(await a.command('n2', 'NOOP')), []);
});

test('CONDSTORE: a .SILENT STORE that changed flags answers FETCH (MODSEQ) (RFC 7162 Example 14); its NOOP is empty', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  const h = num(/\[HIGHESTMODSEQ (\d+)\]/, await a.command('s', 'SELECT INBOX (CONDSTORE)'));
  await a.command('f', 'FETCH 1:* (FLAGS)');
  const st = fetches(await a.command('a', 'STORE 2 +FLAGS.SILENT (\\Answered)'));
  assert.equal(st.length, 1);
  const m = num(/^\* 2 FETCH \(MODSEQ \((\d+)\)\)$/, st);
  assert.ok(m > h, 'a new mod-sequence (RFC 7162 §3.1.3)');
  // Setting a flag already set changes nothing (§3.1.11): no new mod-sequence, so nothing to report.
  assert.deepEqual(fetches(await a.command('b', 'STORE 2 +FLAGS.SILENT (\\Answered)')), []);
  assert.deepEqual(fetches(await a.command('n', 'NOOP')), []);
});

test('a FETCH that sets \\Seen: UID under QRESYNC (§3.2.4) and HIGHESTMODSEQ below an unreported expunge (§3.2)', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  const b = await login(bed);
  for (const c of [a, b]) await c.command('e', 'ENABLE QRESYNC');
  const h0 = num(/\[HIGHESTMODSEQ (\d+)\]/, await a.command('s', 'SELECT INBOX'));
  await b.command('s', 'SELECT INBOX');
  await b.command('d', 'UID STORE 1 +FLAGS.SILENT (\\Deleted)');
  const hx = num(/^x OK \[HIGHESTMODSEQ (\d+)\]/, await b.command('x', 'UID EXPUNGE 1'));

  // A has not been told of UID 1's expunge (FETCH may not, RFC 9051 §7.5.1).
  const f = await a.command('f', 'FETCH 2 (BODY[TEXT])');
  const fetch = f.find((l) => l.startsWith('* 2 FETCH'))!;
  assert.match(fetch, /^\* 2 FETCH \(UID 2 /, 'UID in the FETCH of a \\Seen change under QRESYNC (RFC 7162 §3.2.4)');
  assert.match(f.join('\n'), /FLAGS \(\\Seen\) MODSEQ \(\d+\)\)$/m);
  const modseq = num(/MODSEQ \((\d+)\)/, f);
  assert.ok(modseq > hx, 'the \\Seen change has a mod-sequence above the expunge');
  const guard = num(/^\* OK \[HIGHESTMODSEQ (\d+)\]/, f);
  assert.ok(guard >= h0 && guard < hx, `HIGHESTMODSEQ ${guard} below the unreported expunge's (${hx}), not below SELECT's (${h0})`);
  assert.ok(!f.some((l) => /VANISHED|EXPUNGE/.test(l)), 'no expunge reported during FETCH');
  // UID FETCH: UID once.
  const u = await a.command('u', 'UID FETCH 3 (BODY[TEXT])');
  assert.equal((u.find((l) => l.startsWith('* 3 FETCH'))!.match(/UID /g) ?? []).length, 1);
  const noop = await a.command('n', 'NOOP');
  assert.equal(noop[0], '* VANISHED 1');
});

test('QRESYNC IDLE: expunges are followed by * OK [HIGHESTMODSEQ n]; flag changes (with MODSEQ) are not; tagged OK has no code', async () => {
  const bed = await bedWith();
  const a = await login(bed);
  const b = await login(bed);
  for (const c of [a, b]) await c.command('e', 'ENABLE QRESYNC');
  const sel = await a.command('s', 'SELECT INBOX');
  const [v, h0] = [num(/\[UIDVALIDITY (\d+)\]/, sel), num(/\[HIGHESTMODSEQ (\d+)\]/, sel)];
  await b.command('s', 'SELECT INBOX');
  a.write('i IDLE\r\n');
  assert.match(await a.line(), /^\+ /);
  await b.command('d', 'UID STORE 2,3 +FLAGS.SILENT (\\Deleted)');
  await b.command('x', 'EXPUNGE');
  const lines: string[] = [];
  const has = (re: RegExp) => lines.some((l) => re.test(l));
  while (!has(/^\* VANISHED/) || !has(/^\* OK \[HIGHESTMODSEQ/)) lines.push(await a.line(10_000));
  assert.deepEqual(lines.filter((l) => l.startsWith('* VANISHED')), ['* VANISHED 2:3']);
  const h = num(/^\* OK \[HIGHESTMODSEQ (\d+)\]/, lines);
  assert.ok(lines.findIndex((l) => l.startsWith('* OK')) > lines.findIndex((l) => l.startsWith('* VANISHED')), 'after the VANISHED');
  await b.command('f', 'UID STORE 4 +FLAGS.SILENT (\\Flagged)');
  let flagLine = await a.line(10_000);
  while (!/^\* \d+ FETCH/.test(flagLine)) flagLine = await a.line(10_000);
  assert.match(flagLine, /^\* 2 FETCH \(UID 4 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
  a.write('DONE\r\n');
  assert.deepEqual(await a.until('i'), ['i OK IDLE terminated'], 'no HIGHESTMODSEQ after a flag change: its MODSEQ is the highest');
  // What the value is for: resynchronizing from it, the client is not told of the expunges again (§3.2.5.1);
  // from the value it had before, it is.
  const again = await login(bed);
  await again.command('e', 'ENABLE QRESYNC');
  assert.ok(!(await again.command('q', `SELECT INBOX (QRESYNC (${v} ${h}))`)).some((l) => l.startsWith('* VANISHED')));
  assert.ok((await again.command('r', `SELECT INBOX (QRESYNC (${v} ${h0}))`)).includes('* VANISHED (EARLIER) 2:3'));
});

test('COPY into the selected mailbox: EXISTS in the COPY response, also right after LIST and a JMAP change; not again at NOOP', async () => {
  const bed = await bedWith(3);
  const a = await login(bed);
  await a.command('s', 'SELECT INBOX');
  const copied = await a.command('c', 'UID COPY 1 INBOX');
  assert.match(copied.at(-1)!, /^c OK \[COPYUID \d+ 1 4\]/);
  assert.deepEqual(copied.filter((l) => /EXISTS/.test(l)), ['* 4 EXISTS']);
  assert.deepEqual((await a.command('n', 'NOOP')).filter((l) => /EXISTS/.test(l)), []);
  // A Mailbox/get (LIST, STATUS) and a JMAP arrival just before the COPY: both new messages are counted in its response.
  await a.command('l', 'LIST "" "*"');
  await a.command('t', 'STATUS INBOX (MESSAGES UIDNEXT)');
  bed.store.importMessage(bed.user, 'inbox', new TextEncoder().encode('From: x@example.org\r\nSubject: arrived\r\n\r\nx\r\n'), { receivedAt: new Date(T0 + 99_000) });
  const again = await a.command('d', 'UID COPY 2 INBOX');
  // The copy's UID is assigned by COPY (5); the arrival gets the next one when the catch-up in the response sees it.
  assert.match(again.at(-1)!, /^d OK \[COPYUID \d+ 2 5\]/);
  assert.deepEqual(again.filter((l) => /EXISTS/.test(l)), ['* 6 EXISTS']);
  assert.deepEqual((await a.command('n2', 'NOOP')).filter((l) => /EXISTS/.test(l)), []);
});
