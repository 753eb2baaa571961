/**
 * The write commands byte for byte (RFC 9051 §6.4.3 EXPUNGE, §6.4.6 STORE, §6.4.7 COPY, §6.4.8 MOVE / RFC 6851,
 * §6.3.12 APPEND / RFC 3502 MULTIAPPEND, RFC 4315 UIDPLUS), each checked again through JMAP itself (the store must
 * really hold the change), and with the JMAP requests each command costs counted (DESIGN.md rule 8).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

let bed: TestBed;
let accountId: string;
/** JMAP HTTP requests the gateway sent (through the test bed's wrapped fetch). */
let requests = 0;
/** When set, runs before each gateway request (to make the store change under the gateway's feet). */
let onRequest: ((body: string) => Promise<void>) | null = null;
/** When set, rewrites the body of each gateway request (to make the store refuse part of a write). */
let rewrite: ((body: string) => string) | null = null;

const enc = new TextEncoder();
const msg = (n: number | string) => enc.encode(`From: a@example.org\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@example.org>\r\n\r\nBody ${n}\r\n`);

before(async () => {
  bed = await startTestBed({
    storeLimits: { maxSizeUpload: 64 * 1024 },
    wrapFetch: (inner) => async (input, init) => {
      requests++;
      if (onRequest && typeof init?.body === 'string') await onRequest(init.body);
      if (rewrite && typeof init?.body === 'string') return inner(input, { ...init, body: rewrite(init.body) });
      return inner(input, init);
    },
  });
  accountId = await accountIdOf(bed);
});
after(() => bed.close());

type Email = { id: string; mailboxIds: Record<string, true>; keywords: Record<string, true>; receivedAt: string };

async function createMailbox(name: string): Promise<string> {
  const [, r] = (await jmap(bed, [['Mailbox/set', { accountId, create: { m: { name } } }, '0']]))[0]!;
  return String((r.created as Record<string, { id: string }>).m!.id);
}

/** A new mailbox holding `count` messages (keywords[i] for message i + 1); returns its id and the email ids. */
async function mailboxWith(name: string, count: number, keywords: Record<number, string[]> = {}): Promise<{ id: string; emails: string[] }> {
  const id = await createMailbox(name);
  const emails: string[] = [];
  for (let i = 1; i <= count; i++) {
    emails.push(bed.store.importMessage(bed.user, name, msg(`${name}-${i}`), { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000), ...(keywords[i] ? { keywords: keywords[i] } : {}) }).emailId);
  }
  return { id, emails };
}

async function getEmails(ids: string[]): Promise<{ list: Email[]; notFound: string[] }> {
  const [, r] = (await jmap(bed, [['Email/get', { accountId, ids, properties: ['mailboxIds', 'keywords', 'receivedAt'] }, '0']]))[0]!;
  return { list: r.list as Email[], notFound: r.notFound as string[] };
}

async function inMailbox(mailboxId: string): Promise<string[]> {
  const [, r] = (await jmap(bed, [['Email/query', { accountId, filter: { inMailbox: mailboxId } }, '0']]))[0]!;
  return r.ids as string[];
}

async function session(select?: string): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`);
  if (select) assert.match((await c.command('S', `SELECT "${select}"`)).at(-1)!, /^S OK /);
  return c;
}

/** Run one command and count the JMAP requests it cost. */
async function counted(c: RawClient, tag: string, text: string): Promise<{ lines: string[]; cost: number }> {
  const before = requests;
  const lines = await c.command(tag, text);
  return { lines, cost: requests - before };
}

describe('STORE', () => {
  test('+FLAGS, -FLAGS, FLAGS and .SILENT answer with the resulting flags and reach the JMAP store', async () => {
    const box = await mailboxWith('store-1', 3, { 1: ['$seen'], 3: ['$flagged', 'custom'] });
    const c = await session('store-1');
    const add = await counted(c, 'a', 'STORE 1:3 +FLAGS (\\Flagged $Forwarded)');
    assert.deepEqual(add.lines, [
      '* 1 FETCH (FLAGS (\\Flagged \\Seen $Forwarded))',
      '* 2 FETCH (FLAGS (\\Flagged $Forwarded))',
      '* 3 FETCH (FLAGS (\\Flagged custom $Forwarded))',
      'a OK STORE completed',
    ]);
    assert.equal(add.cost, 2, 'keywords never shown (not known): read first, then Email/get + Email/set (store.ts)');
    assert.deepEqual((await c.command('b', 'STORE 3 -FLAGS (custom \\Flagged)')), ['* 3 FETCH (FLAGS ($Forwarded))', 'b OK STORE completed']);
    assert.deepEqual((await c.command('c', 'STORE 2 FLAGS (\\Answered \\Deleted)')), ['* 2 FETCH (FLAGS (\\Answered \\Deleted))', 'c OK STORE completed']);
    assert.deepEqual((await c.command('d', 'STORE 1 FLAGS.SILENT (\\Draft)')), ['d OK STORE completed']);
    const { list } = await getEmails(box.emails);
    assert.deepEqual(list.map((e) => Object.keys(e.keywords).sort()), [['$draft'], ['$answered'], ['$forwarded']]);
    // Another session sees the same flags, \Deleted included (kept by the gateway).
    const other = await session('store-1');
    assert.deepEqual(await other.command('f', 'FETCH 1:3 FLAGS'), [
      '* 1 FETCH (FLAGS (\\Draft))', '* 2 FETCH (FLAGS (\\Answered \\Deleted))', '* 3 FETCH (FLAGS ($Forwarded))', 'f OK FETCH completed',
    ]);
    other.close();
    c.close();
  });

  test('UID STORE includes the UID; nothing to change costs no write', async () => {
    await mailboxWith('store-2', 2, { 2: ['$seen'] });
    const c = await session('store-2');
    const r = await counted(c, 'a', 'UID STORE 2 +FLAGS (\\Seen)');
    assert.deepEqual(r.lines, ['* 2 FETCH (UID 2 FLAGS (\\Seen))', 'a OK STORE completed']);
    assert.equal(r.cost, 1, 'one request (Email/get + Email/set): \\Seen was already set, nothing changes');
    assert.deepEqual(await c.command('b', 'UID STORE 7:9 +FLAGS (\\Seen)'), ['b OK STORE completed']);
    c.close();
  });

  test('\\Recent and unknown system flags are BAD; EXAMINE makes STORE NO; UNCHANGEDSINCE 0 changes nothing', async () => {
    await mailboxWith('store-3', 1);
    const c = await session('store-3');
    assert.match((await c.command('a', 'STORE 1 +FLAGS (\\Recent)')).at(-1)!, /^a BAD /);
    assert.match((await c.command('b', 'STORE 1 +FLAGS (\\Important)')).at(-1)!, /^b BAD /);
    assert.match((await c.command('c', 'STORE 1 +FLAGS (\\*)')).at(-1)!, /^c BAD /);
    // RFC 7162 §3.1.3 Example 8: UNCHANGEDSINCE 0 always fails.
    const d = await c.command('d', 'STORE 1 (UNCHANGEDSINCE 0) +FLAGS (\\Seen)');
    assert.equal(d.at(-1), 'd OK [MODIFIED 1] Conditional STORE failed');
    assert.ok(d.slice(0, -1).every((l) => l.startsWith('* OK [HIGHESTMODSEQ ')), 'no FETCH: nothing changed');
    await c.command('e', 'EXAMINE store-3');
    assert.match((await c.command('f', 'STORE 1 +FLAGS (\\Seen)')).at(-1)!, /^f NO \[READ-ONLY\] /);
    assert.match((await c.command('g', 'EXPUNGE')).at(-1)!, /^g NO \[READ-ONLY\] /);
    c.close();
  });
});

describe('EXPUNGE', () => {
  test('a message also in another mailbox only leaves this one; the others are destroyed', async () => {
    const box = await mailboxWith('exp-1', 3);
    const other = await createMailbox('exp-1-other');
    await jmap(bed, [['Email/set', { accountId, update: { [box.emails[1]!]: { [`mailboxIds/${other}`]: true } } }, '0']]);
    const c = await session('exp-1');
    await c.command('a', 'STORE 1:3 +FLAGS.SILENT (\\Deleted)');
    await c.command('b', 'STORE 3 -FLAGS.SILENT (\\Deleted)');
    const r = await counted(c, 'x', 'EXPUNGE');
    assert.deepEqual(r.lines, ['* 1 EXPUNGE', '* 1 EXPUNGE', 'x OK EXPUNGE completed']);
    assert.ok(r.cost <= 3, `EXPUNGE cost ${r.cost} requests`);
    const { list, notFound } = await getEmails(box.emails);
    assert.deepEqual(notFound, [box.emails[0]]);
    assert.deepEqual(list.map((e) => [e.id, Object.keys(e.mailboxIds)]), [[box.emails[1], [other]], [box.emails[2], [box.id]]]);
    assert.deepEqual(await c.command('f', 'FETCH 1:* (UID FLAGS)'), ['* 1 FETCH (UID 3 FLAGS ())', 'f OK FETCH completed']);
    c.close();
  });

  test('\\Deleted set by another session is expunged too; CLOSE expunges silently', async () => {
    const box = await mailboxWith('exp-2', 3);
    const a = await session('exp-2');
    const b = await session('exp-2');
    await b.command('s', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await a.command('x', 'EXPUNGE'), ['* 2 EXPUNGE', 'x OK EXPUNGE completed']);
    await a.command('s2', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await a.command('c', 'CLOSE'), ['c OK CLOSE completed']);
    assert.deepEqual(await inMailbox(box.id), [box.emails[2]]);
    a.close();
    b.close();
  });
});

describe('COPY', () => {
  test('COPYUID maps source to new destination UIDs; keywords and \\Deleted go along; label semantics in JMAP', async () => {
    const src = await mailboxWith('copy-src', 4, { 2: ['$flagged'] });
    const dst = await mailboxWith('copy-dst', 2);
    const c = await session('copy-src');
    await c.command('d', 'STORE 3 +FLAGS.SILENT (\\Deleted)');
    const r = await counted(c, 'a', 'COPY 2:4 copy-dst');
    assert.match(r.lines.at(-1)!, /^a OK \[COPYUID \d+ 2:4 3:5\] COPY completed$/);
    assert.ok(r.cost <= 4, `COPY cost ${r.cost} requests`);
    const { list } = await getEmails(src.emails);
    assert.deepEqual(list.map((e) => Object.keys(e.mailboxIds).sort()), [[src.id], [src.id, dst.id].sort(), [src.id, dst.id].sort(), [src.id, dst.id].sort()]);
    const d = await session('copy-dst');
    assert.deepEqual(await d.command('f', 'UID FETCH 3:* FLAGS'), [
      '* 3 FETCH (UID 3 FLAGS (\\Flagged))', '* 4 FETCH (UID 4 FLAGS (\\Deleted))', '* 5 FETCH (UID 5 FLAGS ())', 'f OK FETCH completed',
    ]);
    d.close();
    c.close();
  });

  test('COPY into the mailbox the message is in makes a second email with a new UID (EXISTS)', async () => {
    const box = await mailboxWith('copy-self', 2, { 1: ['$seen'] });
    const c = await session('copy-self');
    const r = await c.command('a', 'COPY 1 copy-self');
    assert.equal(r[0], '* 3 EXISTS');
    assert.match(r.at(-1)!, /^a OK \[COPYUID \d+ 1 3\] COPY completed$/);
    const ids = await inMailbox(box.id);
    assert.equal(ids.length, 3);
    const copy = ids.find((id) => !box.emails.includes(id))!;
    const [orig, dup] = (await getEmails([box.emails[0]!, copy])).list;
    assert.deepEqual(dup!.keywords, orig!.keywords);
    assert.equal(dup!.receivedAt, orig!.receivedAt);
    assert.deepEqual(await c.command('f', 'FETCH 3 (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])'), [
      '* 3 FETCH (UID 3 FLAGS (\\Seen) BODY[HEADER.FIELDS (SUBJECT)] {32}', 'Subject: message copy-self-1', '', ')', 'f OK FETCH completed',
    ]);
    c.close();
  });

  test('a missing destination is NO [TRYCREATE]; a failure part way leaves nothing copied', async () => {
    const src = await mailboxWith('copy-fail', 3);
    const dst = await mailboxWith('copy-fail-dst', 0);
    const c = await session('copy-fail');
    assert.match((await c.command('a', 'COPY 1 no-such-box')).at(-1)!, /^a NO \[TRYCREATE\] /);
    // The third email is destroyed by someone else just as the gateway writes the labels.
    onRequest = async (body) => {
      if (!body.includes('"Email/set"') || !body.includes('mailboxIds/')) return;
      onRequest = null;
      await jmap(bed, [['Email/set', { accountId, destroy: [src.emails[2]] }, '0']]);
    };
    const r = await c.command('b', 'COPY 1:3 copy-fail-dst');
    onRequest = null;
    assert.match(r.at(-1)!, /^b NO /);
    assert.deepEqual(await inMailbox(dst.id), [], 'the labels that were added are removed again');
    c.close();
  });
});

describe('MOVE', () => {
  test('untagged OK [COPYUID] before the EXPUNGEs; JMAP mailboxIds change in one patch', async () => {
    const src = await mailboxWith('move-src', 4, { 3: ['$seen'] });
    const dst = await mailboxWith('move-dst', 1);
    const c = await session('move-src');
    const r = await counted(c, 'a', 'UID MOVE 2:3 move-dst');
    assert.match(r.lines[0]!, /^\* OK \[COPYUID \d+ 2:3 2:3\] /);
    assert.deepEqual(r.lines.slice(1), ['* 2 EXPUNGE', '* 2 EXPUNGE', 'a OK MOVE completed']);
    assert.ok(r.cost <= 4, `MOVE cost ${r.cost} requests`);
    const { list } = await getEmails(src.emails);
    assert.deepEqual(list.map((e) => Object.keys(e.mailboxIds)), [[src.id], [dst.id], [dst.id], [src.id]]);
    assert.deepEqual(await c.command('f', 'FETCH 1:* UID'), ['* 1 FETCH (UID 1)', '* 2 FETCH (UID 4)', 'f OK FETCH completed']);
    const d = await session('move-dst');
    assert.deepEqual(await d.command('f', 'UID FETCH 2:3 FLAGS'), ['* 2 FETCH (UID 2 FLAGS ())', '* 3 FETCH (UID 3 FLAGS (\\Seen))', 'f OK FETCH completed']);
    d.close();
    c.close();
  });

  test('MOVE to the selected mailbox gives the message a new UID', async () => {
    const box = await mailboxWith('move-self', 2);
    const c = await session('move-self');
    const r = await c.command('a', 'MOVE 1 move-self');
    assert.match(r[0]!, /^\* OK \[COPYUID \d+ 1 3\] /);
    assert.deepEqual(r.slice(1), ['* 1 EXPUNGE', '* 2 EXISTS', 'a OK MOVE completed']);
    assert.deepEqual(await c.command('f', 'FETCH 1:* UID'), ['* 1 FETCH (UID 2)', '* 2 FETCH (UID 3)', 'f OK FETCH completed']);
    const ids = await inMailbox(box.id);
    assert.equal(ids.length, 2);
    assert.ok(!ids.includes(box.emails[0]!), 'the original email is gone');
    c.close();
  });
});

describe('APPEND', () => {
  test('APPENDUID; the selected mailbox announces EXISTS; flags, \\Deleted, date and 8-bit bytes are kept', async () => {
    const box = await mailboxWith('app-1', 1);
    const c = await session('app-1');
    const raw = Buffer.concat([Buffer.from('Subject: caf'), Buffer.from([0xe9]), Buffer.from('\r\n\r\nbinary \x00 and bare LF\n\xff end\r\n', 'latin1')]);
    const before = requests;
    c.write(`a APPEND app-1 (\\Seen \\Deleted $Junk) "05-Mar-2024 10:20:30 +0100" ~{${raw.length}+}\r\n`);
    c.write(raw);
    c.write('\r\n');
    const r = await c.until('a');
    const cost = requests - before;
    assert.deepEqual(r.slice(0, -1), ['* 2 EXISTS']);
    assert.match(r.at(-1)!, /^a OK \[APPENDUID \d+ 2\] APPEND completed$/);
    assert.ok(cost <= 6, `APPEND to the selected mailbox cost ${cost} requests`);
    // RFC 9051 §9 date-day-fixed: a one-digit day is padded with a space.
    assert.deepEqual(await c.command('f', 'FETCH 2 (FLAGS INTERNALDATE RFC822.SIZE)'), [
      `* 2 FETCH (FLAGS (\\Deleted \\Seen $Junk) INTERNALDATE " 5-Mar-2024 09:20:30 +0000" RFC822.SIZE ${raw.length})`, 'f OK FETCH completed',
    ]);
    c.write('g FETCH 2 BODY.PEEK[]\r\n');
    assert.equal(await c.line(), `* 2 FETCH (BODY[] {${raw.length}}`);
    await new Promise((res) => setTimeout(res, 100));
    assert.deepEqual(Buffer.from(c.pending(), 'latin1').subarray(0, raw.length), raw);
    c.close();
    assert.equal((await inMailbox(box.id)).length, 2);
  });

  test('MULTIAPPEND: one APPENDUID set; all or none when a later message is refused', async () => {
    const box = await mailboxWith('app-2', 0);
    const c = await session();
    const m1 = msg('multi-1');
    const m2 = msg('multi-2');
    c.write(`a APPEND app-2 {${m1.length}+}\r\n`);
    c.write(m1);
    c.write(` (\\Flagged) {${m2.length}+}\r\n`);
    c.write(m2);
    c.write('\r\n');
    assert.match((await c.until('a')).at(-1)!, /^a OK \[APPENDUID \d+ 1:2\] APPEND completed$/);
    const big = new Uint8Array(70 * 1024).fill(0x41);
    c.write(`b APPEND app-2 {${m1.length}+}\r\n`);
    c.write(m1);
    c.write(` {${big.length}+}\r\n`);
    c.write(big);
    c.write('\r\n');
    assert.match((await c.until('b')).at(-1)!, /^b NO \[TOOBIG\] /);
    assert.equal((await inMailbox(box.id)).length, 2, 'nothing of the refused MULTIAPPEND was stored');
    // The store creates the first email and refuses the second (its blob is unknown): the first is destroyed again.
    rewrite = (body) => (body.includes('"Email/import"') ? body.replace(/("m1":\{"blobId":")[^"]+/, '$1Gmissing') : body);
    c.write(`c APPEND app-2 {${m1.length}+}\r\n`);
    c.write(m1);
    c.write(` {${m2.length}+}\r\n`);
    c.write(m2);
    c.write('\r\n');
    const refused = await c.until('c');
    rewrite = null;
    assert.match(refused.at(-1)!, /^c NO /);
    assert.equal((await inMailbox(box.id)).length, 2, 'the email created before the refusal was destroyed');
    c.close();
  });

  test('TRYCREATE for a missing mailbox; an empty message is refused; \\Recent is BAD', async () => {
    await mailboxWith('app-3', 0);
    const c = await session();
    assert.match((await c.command('a', 'APPEND nowhere {1+}\r\nx')).at(-1)!, /^a NO \[TRYCREATE\] /);
    assert.match((await c.command('b', 'APPEND app-3 {0+}\r\n')).at(-1)!, /^b NO /);
    assert.match((await c.command('c', 'APPEND app-3 (\\Recent) {1+}\r\nx')).at(-1)!, /^c BAD /);
    c.close();
  });
});
