/**
 * Bad input per command (DESIGN.md rule 13): malformed arguments are BAD with a reason (RFC 9051 §7.1.3); refusals
 * are NO with the code RFC 5530 / RFC 9051 §7.1 names: NONEXISTENT, ALREADYEXISTS, TRYCREATE, OVERQUOTA (RFC 9208
 * §4.3.1), TOOBIG (RFC 7889), BADCHARSET, READ-ONLY, NOPERM; names that are not modified UTF-7 are BAD (RFC 9051
 * §5.1.3). And every failed command leaves the mailbox exactly as it was: message count, flags, UIDNEXT, and the
 * JMAP store itself, compared before and after.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

let bed: TestBed;
let accountId: string;
/** Mailbox ids whose JMAP `myRights` the wrapped fetch rewrites to read-only (as a shared folder would be). */
const readOnlyIds = new Set<string>();
const enc = new TextEncoder();
const msg = (n: number | string) => enc.encode(`From: a@example.org\r\nSubject: message ${n}\r\nMessage-ID: <b${n}@example.org>\r\n\r\nBody ${n}\r\n`);
const MAX_UPLOAD = 64 * 1024;

const READ_ONLY_RIGHTS = {
  mayReadItems: true, mayAddItems: false, mayRemoveItems: false, maySetSeen: false, maySetKeywords: false,
  mayCreateChild: false, mayRename: false, mayDelete: false, maySubmit: false,
};

before(async () => {
  bed = await startTestBed({
    storeLimits: { maxSizeUpload: MAX_UPLOAD },
    wrapFetch: (inner) => async (input, init) => {
      const res = await inner(input, init);
      if (readOnlyIds.size === 0 || typeof init?.body !== 'string' || !init.body.includes('"Mailbox/get"')) return res;
      const json = (await res.json()) as { methodResponses: Array<[string, { list?: Array<Record<string, unknown>> }, string]> };
      for (const [name, args] of json.methodResponses) {
        if (name !== 'Mailbox/get') continue;
        for (const m of args.list ?? []) if (readOnlyIds.has(String(m.id))) m.myRights = READ_ONLY_RIGHTS;
      }
      return new Response(JSON.stringify(json), { status: res.status, headers: res.headers });
    },
  });
  accountId = await accountIdOf(bed);
  await mailboxWith('Box', 3, { 2: ['$seen'], 3: ['$flagged'] });
  await mailboxWith('Other', 1);
});
after(() => bed.close());

async function mailboxWith(name: string, count: number, keywords: Record<number, string[]> = {}): Promise<string> {
  const [, r] = (await jmap(bed, [['Mailbox/set', { accountId, create: { m: { name } } }, '0']]))[0]!;
  const id = String((r.created as Record<string, { id: string }>).m!.id);
  for (let i = 1; i <= count; i++) {
    bed.store.importMessage(bed.user, name, msg(`${name}-${i}`), { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000), ...(keywords[i] ? { keywords: keywords[i] } : {}) });
  }
  return id;
}

async function session(select?: string): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`);
  if (select) assert.match((await c.command('S', `SELECT ${select}`)).at(-1)!, /^S OK /);
  return c;
}

/** What a client can see of every mailbox, plus what JMAP holds: must not change when a command fails. */
async function snapshot(): Promise<unknown> {
  const c = await session();
  const out: Record<string, unknown> = {};
  for (const box of ['INBOX', 'Box', 'Other']) {
    out[box] = {
      status: (await c.command('s', `STATUS ${box} (MESSAGES UIDNEXT UNSEEN)`))[0],
      flags: (await c.command('e', `EXAMINE ${box}`)) && (await c.command('f', 'FETCH 1:* (UID FLAGS)')).slice(0, -1),
    };
  }
  c.close();
  const [mailboxes, emails] = (await jmap(bed, [
    ['Mailbox/get', { accountId, properties: ['name', 'totalEmails', 'parentId'] }, '0'],
    ['Email/query', { accountId }, '1'],
  ])).map((r) => r[1]) as [Record<string, unknown>, Record<string, unknown>];
  const [, got] = (await jmap(bed, [['Email/get', { accountId, ids: emails.ids, properties: ['mailboxIds', 'keywords'] }, '0']]))[0]!;
  out.jmap = { mailboxes: mailboxes.list, emails: got.list };
  return out;
}

/** Send each command (several connections: a session ends after too many BADs) and expect a BAD with a reason. */
async function expectBad(select: string | null, commands: string[]): Promise<void> {
  for (let i = 0; i < commands.length; i += 6) {
    const c = await session(select ?? undefined);
    for (const [j, cmd] of commands.slice(i, i + 6).entries()) {
      const last = (await c.command(`b${j}`, cmd)).at(-1)!;
      assert.match(last, new RegExp(`^b${j} BAD .{4,}`), `${cmd} -> ${last}`);
    }
    c.close();
  }
}

describe('malformed arguments', () => {
  test('every command with malformed arguments is BAD with a reason, and changes nothing', async () => {
    const before = await snapshot();
    await expectBad(null, [
      'CAPABILITY now', 'NOOP please', 'LOGOUT later', 'ID (name)', 'ENABLE', 'SELECT', 'EXAMINE',
      'CREATE', 'DELETE', 'RENAME Box', 'SUBSCRIBE', 'UNSUBSCRIBE', 'LIST ""', 'LSUB ""', 'NAMESPACE x',
      'STATUS Box', 'STATUS Box ()', 'STATUS Box (BOGUS)', 'APPEND Box', 'APPEND Box (\\Bogus) {1+}\r\nx',
      'APPEND Box "not a date" {1+}\r\nx', 'GETQUOTA', 'GETQUOTAROOT', 'SETQUOTA "" STORAGE', 'GETJMAPACCESS now',
      'IDLE now', 'LOGIN a b', 'CHECK', 'FETCH 1 FLAGS', 'BOGUS', 'UID BOGUS 1',
    ]);
    await expectBad('Box', [
      'CHECK x', 'CLOSE x', 'UNSELECT x', 'EXPUNGE x', 'UID EXPUNGE', 'UID EXPUNGE x',
      'SEARCH', 'SEARCH BOGUS', 'SEARCH (FLAGGED', 'SEARCH LARGER x', 'SEARCH BEFORE 32-Jan-2024', 'SEARCH RETURN (BOGUS) ALL',
      'SORT', 'SORT (BOGUS) UTF-8 ALL', 'SORT (DATE) UTF-8', 'THREAD', 'THREAD REFERENCES', 'UID SORT (DATE)',
      'FETCH', 'FETCH 1', 'FETCH 1 (BOGUS)', 'FETCH x FLAGS', 'FETCH 0 FLAGS', 'FETCH 1 BODY[1.0]',
      'FETCH 1 BODY[HEADER.FIELDS ()]', 'FETCH 1 BODY[]<x>', 'STORE 1', 'STORE 1 FLAGS', 'STORE 1 BOGUS (\\Seen)',
      'STORE 1 +FLAGS (\\Recent)', 'STORE 1 FLAGS (\\Bogus)', 'UID STORE x +FLAGS (\\Seen)', 'COPY 1', 'COPY x Other',
      'MOVE 1', 'MOVE 0 Other', 'UID COPY 1', 'UID MOVE', 'SELECT', 'CREATE',
    ]);
    assert.deepEqual(await snapshot(), before);
  });

  test('names that are not modified UTF-7 are BAD (RFC 9051 §5.1.3), and nothing is created', async () => {
    const before = await snapshot();
    // "&Jjo" is unterminated, "&AGE-" encodes "a" (which must be sent as itself), "&-" alone is fine.
    await expectBad(null, [
      'SELECT "&Jjo"', 'EXAMINE "Box&AGE-"', 'CREATE "&Jjo"', 'CREATE "new&AGE-"', 'DELETE "&Jjo"',
      'RENAME Box "&Jjo"', 'RENAME "&Jjo" Box2', 'SUBSCRIBE "&Jjo"', 'STATUS "&Jjo" (MESSAGES)',
      'APPEND "&Jjo" {1+}\r\nx', 'GETQUOTAROOT "&Jjo"', 'LIST "" "&Jjo"',
    ]);
    await expectBad('Box', ['COPY 1 "&Jjo"', 'MOVE 1 "&Jjo"']);
    assert.deepEqual(await snapshot(), before);
  });
});

describe('refusals with response codes', () => {
  test('unknown mailbox: NO [NONEXISTENT]; APPEND / COPY / MOVE to one: NO [TRYCREATE]', async () => {
    const before = await snapshot();
    const c = await session();
    for (const cmd of ['SELECT nosuch', 'EXAMINE nosuch', 'STATUS nosuch (MESSAGES)', 'DELETE nosuch', 'RENAME nosuch other', 'SUBSCRIBE nosuch']) {
      assert.match((await c.command('n', cmd)).at(-1)!, /^n NO \[NONEXISTENT\] /, cmd);
    }
    assert.equal(c.closed, false);
    assert.match((await c.command('a', 'APPEND nosuch {6+}\r\nx: y\r\n')).at(-1)!, /^a NO \[TRYCREATE\] /);
    assert.match((await c.command('s', 'SELECT Box')).at(-1)!, /^s OK /);
    assert.match((await c.command('c', 'COPY 1:* nosuch')).at(-1)!, /^c NO \[TRYCREATE\] /);
    assert.match((await c.command('m', 'UID MOVE 1:* nosuch')).at(-1)!, /^m NO \[TRYCREATE\] /);
    c.close();
    assert.deepEqual(await snapshot(), before);
  });

  test('mailbox exists: CREATE and RENAME onto it are NO [ALREADYEXISTS]', async () => {
    const before = await snapshot();
    const c = await session();
    assert.match((await c.command('a', 'CREATE Other')).at(-1)!, /^a NO \[ALREADYEXISTS\] /);
    assert.match((await c.command('b', 'CREATE INBOX')).at(-1)!, /^b NO \[ALREADYEXISTS\] /);
    assert.match((await c.command('c', 'RENAME Box Other')).at(-1)!, /^c NO \[ALREADYEXISTS\] /);
    c.close();
    assert.deepEqual(await snapshot(), before);
  });

  test('over quota: APPEND and MULTIAPPEND are NO [OVERQUOTA], nothing stored', async () => {
    const before = await snapshot();
    const [, q] = (await jmap(bed, [['Email/query', { accountId }, '0']]))[0]!;
    bed.store.setQuota(bed.user, { messages: (q.ids as string[]).length + 1 });
    try {
      const c = await session();
      assert.match((await c.command('a', 'APPEND Box {6+}\r\nx: y\r\n {6+}\r\nx: z\r\n')).at(-1)!, /^a NO \[OVERQUOTA\] /);
      c.close();
      assert.deepEqual(await snapshot(), before, 'the first message of the MULTIAPPEND was taken back');
    } finally {
      bed.store.setQuota(bed.user, { messages: null });
    }
  });

  test('APPEND over APPENDLIMIT (the backend maxSizeUpload) is NO [TOOBIG] before any upload', async () => {
    const before = await snapshot();
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    const login = (await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!;
    assert.match(login, new RegExp(` APPENDLIMIT=${MAX_UPLOAD}[ \\]]`));
    assert.deepEqual((await c.command('s', 'STATUS Box (APPENDLIMIT)'))[0], `* STATUS Box (APPENDLIMIT ${MAX_UPLOAD})`);
    const big = 'x: ' + 'y'.repeat(MAX_UPLOAD - 4) + '\r\n'; // MAX_UPLOAD + 1 octets
    assert.equal(big.length, MAX_UPLOAD + 1);
    assert.match((await c.command('a', `APPEND Box {${big.length}+}\r\n${big}`)).at(-1)!, /^a NO \[TOOBIG\] /);
    const fits = 'x: ' + 'y'.repeat(MAX_UPLOAD - 5) + '\r\n';
    assert.equal(fits.length, MAX_UPLOAD);
    assert.match((await c.command('b', `APPEND Other {${fits.length}+}\r\n${fits}`)).at(-1)!, /^b OK \[APPENDUID /);
    c.close();
    const after = (await snapshot()) as Record<string, unknown>;
    assert.deepEqual(after.Box, (before as Record<string, unknown>).Box, 'Box unchanged');
    // Undo the message that fit, so later tests see the same store.
    const [, r] = (await jmap(bed, [['Email/query', { accountId, filter: { minSize: MAX_UPLOAD } }, '0']]))[0]!;
    await jmap(bed, [['Email/set', { accountId, destroy: r.ids }, '0']]);
  });

  test('SEARCH / SORT / THREAD with an unsupported CHARSET: NO [BADCHARSET (...)]', async () => {
    const c = await session('Box');
    assert.match((await c.command('a', 'SEARCH CHARSET X-BOGUS ALL')).at(-1)!, /^a NO \[BADCHARSET \([^)]*UTF-8[^)]*\)\] /);
    assert.match((await c.command('b', 'SORT (DATE) X-BOGUS ALL')).at(-1)!, /^b NO \[BADCHARSET/);
    assert.match((await c.command('c', 'THREAD REFERENCES X-BOGUS ALL')).at(-1)!, /^c NO \[BADCHARSET/);
    c.close();
  });

  test('EXAMINE and a JMAP read-only mailbox: [READ-ONLY]; STORE, EXPUNGE, MOVE, APPEND refused; nothing changes', async () => {
    const before = await snapshot();
    const c = await session();
    assert.match((await c.command('e', 'EXAMINE Box')).at(-1)!, /^e OK \[READ-ONLY\] /);
    assert.match((await c.command('s', 'STORE 1 +FLAGS (\\Deleted)')).at(-1)!, /^s NO \[READ-ONLY\] /);
    assert.match((await c.command('x', 'EXPUNGE')).at(-1)!, /^x NO \[READ-ONLY\] /);
    assert.match((await c.command('m', 'MOVE 1 Other')).at(-1)!, /^m NO \[READ-ONLY\] /);
    const [, boxes] = (await jmap(bed, [['Mailbox/get', { accountId, properties: ['name'] }, '0']]))[0]!;
    readOnlyIds.add(String((boxes.list as Array<{ id: string; name: string }>).find((m) => m.name === 'Box')!.id));
    try {
      const ro = await session();
      assert.match((await ro.command('a', 'SELECT Box')).at(-1)!, /^a OK \[READ-ONLY\] /);
      assert.match((await ro.command('b', 'STORE 1:* +FLAGS (\\Flagged)')).at(-1)!, /^b NO \[READ-ONLY\] /);
      assert.match((await ro.command('c', 'APPEND Box {6+}\r\nx: y\r\n')).at(-1)!, /^c NO \[NOPERM\] /);
      ro.close();
    } finally {
      readOnlyIds.clear();
    }
    c.close();
    assert.deepEqual(await snapshot(), before);
  });
});
