/**
 * RFC 7162 §3.1 (CONDSTORE) examples as transcripts, adapted to a six-message INBOX (UIDs 1..6). The commands and
 * the response shapes are the RFC's. The mod-sequence values are the gateway's own counter (DESIGN.md rule 5), so
 * instead of the RFC's numbers each transcript checks what the RFC requires of them: MODSEQ <= HIGHESTMODSEQ, a
 * changed message gets a value above every earlier one, an unchanged one keeps its value, UNCHANGEDSINCE below a
 * message's value leaves it alone and lists it in [MODIFIED]. Large UNCHANGEDSINCE values are the RFC's own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { modseqs } from '../helpers/fetch-lines.ts';

let bed: TestBed;

before(async () => {
  bed = await startTestBed();
  const t0 = Date.UTC(2024, 0, 1);
  for (let i = 1; i <= 6; i++) {
    const raw = new TextEncoder().encode(`From: a${i}@example.org\r\nSubject: m${i}\r\nMessage-ID: <r${i}@example.org>\r\n\r\nbody ${i}\r\n`);
    bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(t0 + i * 1000) });
  }
});
after(() => bed.close());

async function login(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
  return c;
}

const num = (re: RegExp, lines: string[]): number => {
  const m = lines.map((l) => re.exec(l)).find((x) => x);
  assert.ok(m, `${re} not in ${JSON.stringify(lines)}`);
  return Number(m[1]);
};

test('RFC 7162 §3.1.2 STATUS (HIGHESTMODSEQ) and §3.1.2.1 / §3.1.8 SELECT (CONDSTORE): one HIGHESTMODSEQ', async () => {
  const c = await login();
  // C: A042 STATUS blurdybloop (UIDNEXT MESSAGES HIGHESTMODSEQ)
  // S: * STATUS blurdybloop (MESSAGES 231 UIDNEXT 44292 HIGHESTMODSEQ 7011231777)
  const st = await c.command('A042', 'STATUS INBOX (UIDNEXT MESSAGES HIGHESTMODSEQ)');
  assert.match(st[0]!, /^\* STATUS INBOX \(UIDNEXT 7 MESSAGES 6 HIGHESTMODSEQ \d+\)$/);
  assert.equal(st[1], 'A042 OK STATUS completed');
  const h = num(/HIGHESTMODSEQ (\d+)/, st);
  assert.ok(h >= 1);
  // C: a SELECT INBOX (CONDSTORE)  S: * OK [HIGHESTMODSEQ 715194045007]  ...  S: a OK [READ-WRITE] ...
  const sel = await c.command('a', 'SELECT INBOX (CONDSTORE)');
  assert.equal(sel.filter((l) => /^\* OK \[HIGHESTMODSEQ \d+\]/.test(l)).length, 1);
  assert.equal(num(/^\* OK \[HIGHESTMODSEQ (\d+)\]/, sel), h, 'nothing changed between STATUS and SELECT');
  assert.ok(!sel.some((l) => l.includes('NOMODSEQ')), 'every mailbox keeps mod-sequences');
  assert.match(sel.at(-1)!, /^a OK \[READ-WRITE\]/);
  c.close();
});

test('RFC 7162 §3.1.3 Example 5: a first enabling STORE with a mailbox selected sends HIGHESTMODSEQ first', async () => {
  const c = await login();
  const sel = await c.command('s', 'SELECT INBOX');
  assert.ok(!sel.some((l) => l.includes('HIGHESTMODSEQ')), 'no HIGHESTMODSEQ before a CONDSTORE enabling command');
  assert.deepEqual(await c.command('p', 'STORE 5 +FLAGS.SILENT (\\Deleted)'), ['p OK STORE completed'], 'no MODSEQ before enabling');
  // C: c101 STORE 50 (UNCHANGEDSINCE 12121230045) -FLAGS.SILENT (\Deleted)
  // S: * OK [HIGHESTMODSEQ 12111230047]
  // S: * 50 FETCH (MODSEQ (12111230048))
  // S: c101 OK Store (conditional) completed
  const r = await c.command('c101', 'STORE 5 (UNCHANGEDSINCE 12121230045) -FLAGS.SILENT (\\Deleted)');
  assert.equal(r.length, 3, r.join('\n'));
  const h = num(/^\* OK \[HIGHESTMODSEQ (\d+)\] /, [r[0]!]);
  assert.deepEqual(r.slice(1), [`* 5 FETCH (MODSEQ (${h + 1}))`, 'c101 OK STORE completed'], 'the change takes the next mod-sequence');
  c.close();
});

test('RFC 7162 §3.1.3 Examples 3, 6, 7 and §3.1.4.1 FETCH (CHANGEDSINCE)', async () => {
  const c = await login();
  const h0 = num(/HIGHESTMODSEQ (\d+)/, await c.command('s', 'SELECT INBOX (CONDSTORE)'));

  // Example 3. C: a103 UID STORE 6,4,8 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\Deleted)
  //            S: * 1 FETCH (UID 4 MODSEQ (12121231000)) ... S: a103 OK Conditional Store completed
  const r3 = await c.command('a103', 'UID STORE 6,4,2 (UNCHANGEDSINCE 12121230045) +FLAGS.SILENT (\\Deleted)');
  assert.equal(r3.length, 4, r3.join('\n'));
  const k = num(/MODSEQ \((\d+)\)/, r3);
  assert.ok(k > h0);
  assert.deepEqual(r3, [`* 2 FETCH (UID 2 MODSEQ (${k}))`, `* 4 FETCH (UID 4 MODSEQ (${k}))`, `* 6 FETCH (UID 6 MODSEQ (${k}))`, 'a103 OK STORE completed']);

  // Example 7. C: a102 STORE 12 (UNCHANGEDSINCE 0) +FLAGS.SILENT ($MDNSent)  S: a102 OK [MODIFIED 12] ...
  assert.deepEqual(await c.command('a102', 'STORE 3 (UNCHANGEDSINCE 0) +FLAGS.SILENT ($MDNSent)'), ['a102 OK [MODIFIED 3] Conditional STORE failed']);

  // Example 6. C: d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\Deleted)
  //            S: * 5 FETCH (MODSEQ (320162350))   S: d105 OK [MODIFIED 7,9] Conditional STORE failed
  // Messages 2 and 4 changed at k, message 3 not: UNCHANGEDSINCE k-1 fails 2 and 4 only.
  const r6 = await c.command('d105', `STORE 4,3,2 (UNCHANGEDSINCE ${k - 1}) +FLAGS.SILENT (\\Deleted)`);
  assert.equal(r6.length, 2, r6.join('\n'));
  const k3 = num(/^\* 3 FETCH \(MODSEQ \((\d+)\)\)$/, r6);
  assert.ok(k3 > k);
  assert.equal(r6[1], 'd105 OK [MODIFIED 2,4] Conditional STORE failed');
  assert.deepEqual([...(await c.command('d', 'FETCH 2:4 (FLAGS)'))].slice(0, 3).map((l) => /FLAGS \(([^)]*)\)/.exec(l)?.[1]),
    ['\\Deleted', '\\Deleted', '\\Deleted'], '2 and 4 from Example 3, 3 from Example 6');

  // §3.1.4.1. C: s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)
  //           S: * 1 FETCH (UID 4 MODSEQ (65402) FLAGS (\Seen)) ... S: s100 OK FETCH completed
  const f = await c.command('s100', `UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${h0})`);
  assert.deepEqual([...modseqs(f).keys()], [2, 3, 4, 6], 'exactly the messages changed since h0');
  assert.match(f[0]!, /^\* 2 FETCH \(UID 2 FLAGS \(\\Deleted\) MODSEQ \(\d+\)\)$/);
  assert.equal(f.at(-1), 's100 OK FETCH completed');
  assert.deepEqual(await c.command('s101', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${Math.max(...modseqs(f).values())})`), ['s101 OK FETCH completed']);
  c.close();
});

test('RFC 7162 §3.1.5 SEARCH MODSEQ and §3.1.6 the (MODSEQ n) result', async () => {
  const c = await login();
  await c.command('s', 'SELECT INBOX');
  await c.command('p', 'STORE 1 +FLAGS (\\Draft)');
  // C: a SEARCH MODSEQ "/flags/\\draft" all 620162338
  // S: * SEARCH 2 5 6 7 11 12 18 19 20 23 (MODSEQ 917162500)
  const all = modseqs(await c.command('f', 'FETCH 1:* (MODSEQ)'));
  const m1 = all.get(1)!;
  const r = await c.command('a', `SEARCH MODSEQ "/flags/\\\\draft" all ${m1}`);
  const expected = [...all].filter(([, m]) => m >= m1).map(([seq]) => seq);
  assert.deepEqual(r, [`* SEARCH ${expected.join(' ')} (MODSEQ ${Math.max(...[...all.values()])})`, 'a OK SEARCH completed']);
  // C: t SEARCH OR NOT MODSEQ 720162338 LARGER 50000   S: * SEARCH   (no MODSEQ part for an empty result)
  assert.deepEqual(await c.command('t', 'SEARCH OR NOT MODSEQ 1 LARGER 50000'), ['* SEARCH', 't OK SEARCH completed']);
  c.close();
});

test('RFC 5161 / RFC 7162 §3.1: ENABLE CONDSTORE, then SELECT reports HIGHESTMODSEQ and flag changes carry MODSEQ', async () => {
  const a = await login();
  assert.deepEqual(await a.command('e', 'ENABLE CONDSTORE'), ['* ENABLED CONDSTORE', 'e OK ENABLE completed']);
  const h = num(/^\* OK \[HIGHESTMODSEQ (\d+)\]/, await a.command('s', 'SELECT INBOX'));
  const b = await login();
  await b.command('s', 'SELECT INBOX');
  await b.command('t', 'STORE 6 +FLAGS (\\Answered)');
  const n = await a.command('n', 'NOOP');
  const m = /^\* 6 FETCH \(UID 6 FLAGS \(([^)]*)\) MODSEQ \((\d+)\)\)$/.exec(n[0]!);
  assert.ok(m, n.join('\n'));
  assert.ok(m[1]!.includes('\\Answered'));
  assert.ok(Number(m[2]) > h, 'the unsolicited FETCH carries the new MODSEQ');
  a.close();
  b.close();
});
