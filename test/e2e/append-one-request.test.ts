/**
 * APPEND in one JMAP request (src/session/commands/append.ts, MailBackend.importInOne) and the adoption of the
 * import's own states (RFC 8621 §4.8 `oldState`/`newState`, sync.ts assignOwn), on the embedded store (RFC 9404
 * `Blob/upload`):
 * - a warm APPEND to the selected mailbox costs one request and still announces the message (RFC 9051 §6.3.12:
 *   "the server SHOULD send an untagged EXISTS"; §7.4.1 EXISTS is the total count), APPENDUID names it (RFC 4315
 *   §3), and the message has ONE new mod-sequence (RFC 7162 §3.1: a second session sees the same value, and
 *   `UNCHANGEDSINCE` with it holds, §3.1.3);
 * - a rename of the target between two APPENDs: the message goes where the name points now, and the import into the
 *   renamed mailbox is undone (nothing left behind);
 * - another session's or JMAP change interleaved: still reported (RFC 9051 §7.5.2), at the APPEND or the next NOOP;
 * - an unknown outcome of the one request: the message is stored exactly once (DESIGN.md rule 10).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

let bed: TestBed;
let accountId: string;
let requests = 0;
/** A fault for the next request that carries Blob/upload and Email/import together, then cleared. */
let fault: 'drop-after' | 'drop-before' | null = null;
let oneRequests = 0;
/** Requests that destroy emails (`Email/set` with `destroy`). */
let destroys = 0;

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => async (input, init) => {
      requests++;
      const body = typeof init?.body === 'string' ? init.body : '';
      if (body.includes('"Email/set"') && body.includes('"destroy"')) destroys++;
      if (!body.includes('"Blob/upload"') || !body.includes('"Email/import"')) return inner(input, init);
      oneRequests++;
      const f = fault;
      fault = null;
      if (f === 'drop-before') throw new TypeError('fetch failed');
      const res = await inner(input, init);
      if (f === 'drop-after') { await res.arrayBuffer(); throw new TypeError('fetch failed'); }
      return res;
    },
  });
  accountId = await accountIdOf(bed);
});
after(() => bed.close());

async function login(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  assert.match((await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^L OK/);
  return c;
}

const message = (n: string) => `From: a@example.org\r\nSubject: ${n}\r\nMessage-ID: <${n}@example.org>\r\n\r\nBody ${n}\r\n`;

/** APPEND one message; the response lines and the JMAP requests it cost. */
async function append(c: RawClient, tag: string, mailbox: string, body: string): Promise<{ lines: string[]; requests: number }> {
  const before = requests;
  const lines = await c.command(tag, `APPEND ${mailbox} {${body.length}+}\r\n${body}`, 10_000);
  return { lines, requests: requests - before };
}

async function mailboxId(name: string): Promise<string> {
  const r = await jmap(bed, [['Mailbox/get', { accountId, ids: null, properties: ['name'] }, 'm']]);
  return (r[0]![1].list as Array<{ id: string; name: string }>).find((m) => m.name === name)!.id;
}

/** Subjects of the emails in a mailbox, as the JMAP store has them. */
async function subjectsIn(id: string): Promise<string[]> {
  const r = await jmap(bed, [
    ['Email/query', { accountId, filter: { inMailbox: id } }, 'q'],
    ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['subject'] }, 'g'],
  ]);
  return (r[1]![1].list as Array<{ subject: string }>).map((e) => e.subject).sort();
}

const number = (lines: string[], re: RegExp): number => {
  const hit = lines.map((l) => re.exec(l)).find((m) => m);
  assert.ok(hit, `${re} in:\n${lines.join('\n')}`);
  return Number(hit[1]);
};

test('warm APPEND to the selected mailbox: one request, * n EXISTS, APPENDUID, one new MODSEQ', async () => {
  const c = await login();
  await c.command('C', 'CREATE Warm');
  assert.match((await append(c, 'A0', 'Warm', message('w0'))).lines.at(-1)!, /^A0 OK \[APPENDUID \d+ 1\]/);
  const sel = await c.command('S', 'SELECT Warm (CONDSTORE)');
  const uidValidity = number(sel, /\[UIDVALIDITY (\d+)\]/);
  const h0 = number(sel, /\[HIGHESTMODSEQ (\d+)\]/);

  const a = await append(c, 'A1', 'Warm', message('w1'));
  assert.equal(a.requests, 1, 'Mailbox/changes, Mailbox/get, Blob/upload and Email/import in one request');
  assert.ok(a.lines.includes('* 2 EXISTS'), a.lines.join('\n'));
  assert.equal(a.lines.at(-1), `A1 OK [APPENDUID ${uidValidity} 2] APPEND completed`);
  const m = number(await c.command('F', 'UID FETCH 2 (MODSEQ)'), /^\* 2 FETCH \(.*MODSEQ \((\d+)\)/);
  assert.ok(m > h0, `the new message's MODSEQ ${m} is above the HIGHESTMODSEQ before it, ${h0}`);

  // Nothing else changed: NOOP reports nothing and the message keeps its one mod-sequence.
  const noop = await c.command('N', 'NOOP');
  assert.deepEqual(noop, ['N OK NOOP completed']);
  assert.equal(number(await c.command('F2', 'UID FETCH 2 (MODSEQ)'), /MODSEQ \((\d+)\)/), m);
  // Another session sees the same value, and the mailbox's HIGHESTMODSEQ is it (RFC 7162 §3.1.1).
  const d = await login();
  const sel2 = await d.command('S', 'SELECT Warm (CONDSTORE)');
  assert.ok(sel2.includes('* 2 EXISTS'));
  assert.equal(number(sel2, /\[HIGHESTMODSEQ (\d+)\]/), m);
  assert.equal(number(await d.command('F', 'UID FETCH 2 (MODSEQ)'), /MODSEQ \((\d+)\)/), m);
  d.close();
  // RFC 7162 §3.1.3: UNCHANGEDSINCE the value the client was shown holds.
  assert.match((await c.command('U', `UID STORE 2 (UNCHANGEDSINCE ${m}) +FLAGS.SILENT (\\Seen)`)).at(-1)!, /^U OK/);
  c.close();
});

test('the target renamed between two APPENDs: the message goes to the mailbox the name means now, nothing left behind', async () => {
  const c = await login();
  await c.command('C', 'CREATE Moving');
  assert.match((await append(c, 'A0', 'Moving', message('r0'))).lines.at(-1)!, /^A0 OK/);
  const sel = await c.command('S', 'SELECT Moving');
  const oldValidity = number(sel, /\[UIDVALIDITY (\d+)\]/);
  assert.match((await append(c, 'A1', 'Moving', message('r1'))).lines.at(-1)!, new RegExp(`^A1 OK \\[APPENDUID ${oldValidity} 2\\]`));

  // Another client renames it and creates a new mailbox with the old name.
  const old = await mailboxId('Moving');
  await jmap(bed, [['Mailbox/set', { accountId, update: { [old]: { name: 'Moved' } } }, 'r']]);
  const created = await jmap(bed, [['Mailbox/set', { accountId, create: { n: { name: 'Moving', parentId: null } } }, 's']]);
  const fresh = (created[0]![1].created as Record<string, { id: string }>).n!.id;
  const sentBefore = oneRequests;
  const destroyedBefore = destroys;
  const a = await append(c, 'A2', 'Moving', message('r2'));
  assert.equal(oneRequests - sentBefore, 1, 'the one-request APPEND was tried');
  assert.equal(destroys - destroyedBefore, 1, 'and its import into the renamed mailbox undone');
  const newValidity = number(a.lines, /\[APPENDUID (\d+) 1\]/);
  assert.notEqual(newValidity, oldValidity, 'a distinct mailbox has a distinct UIDVALIDITY');
  assert.ok(!a.lines.some((l) => /EXISTS/.test(l)), 'the selected (renamed) mailbox got nothing');
  assert.deepEqual(await subjectsIn(fresh), ['r2']);
  assert.deepEqual(await subjectsIn(old), ['r0', 'r1'], 'the import into the renamed mailbox was undone');
  assert.deepEqual(await c.command('N', 'NOOP'), ['N OK NOOP completed']);
  c.close();
});

test('changes by JMAP and by another session are reported: at the APPEND when JMAP moved, at the next NOOP otherwise', async () => {
  const c = await login();
  await c.command('C', 'CREATE Busy');
  assert.match((await append(c, 'A0', 'Busy', message('b0'))).lines.at(-1)!, /^A0 OK/);
  await c.command('S', 'SELECT Busy');
  // A webmail flags message 1: the import's oldState is not the view's, so the APPEND catches up and tells it.
  const [first] = (await jmap(bed, [['Email/query', { accountId, filter: { inMailbox: await mailboxId('Busy') } }, 'q']]))[0]![1].ids as string[];
  await jmap(bed, [['Email/set', { accountId, update: { [first!]: { 'keywords/$flagged': true } } }, 'k']]);
  const a = await append(c, 'A1', 'Busy', message('b1'));
  assert.ok(a.lines.some((l) => /^\* 1 FETCH \(.*FLAGS \(\\Flagged\)/.test(l)), a.lines.join('\n'));
  assert.ok(a.lines.includes('* 2 EXISTS'), a.lines.join('\n'));
  assert.match(a.lines.at(-1)!, /^A1 OK \[APPENDUID \d+ 2\]/);

  // Another IMAP session sets \Deleted (kept by the gateway, no JMAP change): the next APPEND takes the fast path,
  // and the NOOP after it still reports the other session's change.
  const d = await login();
  await d.command('S', 'SELECT Busy');
  assert.match((await d.command('T', 'STORE 1 +FLAGS.SILENT (\\Deleted)')).at(-1)!, /^T OK/);
  const b = await append(c, 'A2', 'Busy', message('b2'));
  assert.equal(b.requests, 1);
  assert.ok(b.lines.includes('* 3 EXISTS'), b.lines.join('\n'));
  const noop = await c.command('N', 'NOOP');
  assert.ok(noop.some((l) => /^\* 1 FETCH \(.*FLAGS \(.*\\Deleted/.test(l)), noop.join('\n'));
  d.close();
  c.close();
});

for (const f of ['drop-after', 'drop-before'] as const) {
  test(`the one request ${f === 'drop-after' ? 'answer is lost' : 'never arrives'}: the message is stored exactly once`, async () => {
    const name = `Lost-${f}`;
    const c = await login();
    assert.match((await c.command('C', `CREATE ${name}`)).at(-1)!, /^C OK/);
    assert.match((await append(c, 'A0', name, message(`${f}-0`))).lines.at(-1)!, /^A0 OK/);
    await c.command('S', `SELECT ${name}`);
    fault = f;
    const sentBefore = oneRequests;
    const a = await append(c, 'A1', name, message(`${f}-1`));
    assert.equal(oneRequests - sentBefore, 1);
    assert.equal(fault, null, 'the fault was applied');
    assert.match(a.lines.at(-1)!, /^A1 OK \[APPENDUID \d+ 2\]/);
    assert.ok(a.lines.includes('* 2 EXISTS'), a.lines.join('\n'));
    assert.deepEqual(await subjectsIn(await mailboxId(name)), [`${f}-0`, `${f}-1`]);
    c.close();
  });
}
