/**
 * STATUS through the kept mailbox tree (src/session/tree-cache.ts, DESIGN.md rule 8): a warm STATUS costs ONE JMAP
 * request (`Mailbox/changes` since the kept tree's state, `Mailbox/get` of the named mailbox, `Email/changes` since
 * its UID map's state), in the user's own account and in an account shared with them (RFC 2342 §5 `Other Users/`),
 * whose SELECT costs one request too; the STATUS of many mailboxes in one LIST (RFC 5819) share one `Email/changes`.
 *
 * What a client sees must not depend on any of it: RFC 9051 §6.3.11 STATUS gives the mailbox's status as it is now,
 * so a change made in JMAP just before a STATUS (new mail, a flag, a rename, a delete, rights taken away) shows in
 * its answer. Expected values come from the messages the test put in the store: MESSAGES counts them, UIDNEXT is one
 * past the last UID a SELECT shows, UNSEEN counts those without `$seen` (a draft without it too, RFC 9051 §6.3.11),
 * SIZE is the sum of their octets (RFC 8438 §2), a name that no longer exists is NO [NONEXISTENT] (RFC 5530).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const BOB = 'bob@example.test';
const PW = 'bob password';
const T0 = Date.UTC(2024, 0, 1);
const enc = new TextEncoder();
const message = (tag: string) => enc.encode(`From: s@example.org\r\nSubject: ${tag}\r\nMessage-ID: <${tag}@example.org>\r\n\r\nbody of ${tag}\r\n`);

/** Mailbox ids whose `myRights` the wrapped fetch turns to "nothing" (a share withdrawn, as bad-args.test.ts does). */
const hidden = new Set<string>();
const NO_RIGHTS = {
  mayReadItems: false, mayAddItems: false, mayRemoveItems: false, maySetSeen: false, maySetKeywords: false,
  mayCreateChild: false, mayRename: false, mayDelete: false, maySubmit: false,
};

describe('STATUS and shared SELECT through the kept mailbox tree', () => {
  let bed: TestBed;
  let accountId = '';
  /** Each JMAP API request the gateway sent: its method names and the accountIds its calls name. */
  let requests: Array<{ methods: string[]; accounts: string[] }> = [];

  before(async () => {
    bed = await startTestBed({
      wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
        const body = typeof init?.body === 'string' ? init.body : '';
        if (body) {
          const calls = (JSON.parse(body) as { methodCalls: Array<[string, { accountId?: string }]> }).methodCalls;
          requests.push({ methods: calls.map((m) => m[0]), accounts: [...new Set(calls.map((m) => String(m[1].accountId)))] });
        }
        const res = await inner(input, init);
        if (hidden.size === 0 || !body.includes('"Mailbox/get"')) return res;
        const json = (await res.json()) as { methodResponses: Array<[string, { list?: Array<Record<string, unknown>> }, string]> };
        for (const [name, args] of json.methodResponses) {
          if (name === 'Mailbox/get') for (const m of args.list ?? []) if (hidden.has(String(m.id))) m.myRights = NO_RIGHTS;
        }
        return new Response(JSON.stringify(json), { status: res.status, headers: res.headers });
      }) as typeof fetch,
    });
    accountId = await accountIdOf(bed);
    bed.store.createUser(BOB, PW);
    bed.store.shareAccount(bed.user, BOB);
  });
  after(() => bed.close());

  async function login(user = bed.user, password = bed.password): Promise<RawClient> {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    assert.match((await c.command('l', `LOGIN "${user}" "${password}"`)).at(-1)!, /^l OK/);
    return c;
  }

  /** A command's lines and the JMAP requests it cost. */
  async function run(c: RawClient, text: string): Promise<{ lines: string[]; requests: typeof requests }> {
    requests = [];
    const lines = await c.command('s', text);
    return { lines, requests };
  }

  async function createMailbox(name: string): Promise<string> {
    const r = await jmap(bed, [['Mailbox/set', { accountId, create: { k: { name } } }, 'c']]);
    return (r[0]![1].created as Record<string, { id: string }>).k!.id;
  }

  /** Puts messages `tags` in mailbox `name` (by role or name), each with its keywords. */
  function fill(name: string, tags: Array<[string, string[]]>): number {
    let octets = 0;
    for (const [i, [tag, keywords]] of tags.entries()) {
      bed.store.importMessage(bed.user, name, message(tag), { receivedAt: new Date(T0 + i * 1000), keywords });
      octets += message(tag).length;
    }
    return octets;
  }

  const ONE = [['Mailbox/changes', 'Mailbox/get', 'Email/changes']];
  const code = (re: RegExp, lines: string[]) => re.exec(lines.join('\n'))?.[1];

  test('a warm STATUS: one request, with the mailbox as the store holds it (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE)', async () => {
    await createMailbox('Reports');
    const size = fill('Reports', [['r1', ['$seen']], ['r2', []], ['r3', ['$draft']], ['r4', ['$flagged']]]);
    const c = await login();
    const selected = await run(c, 'SELECT Reports (CONDSTORE)');
    assert.match(selected.lines.at(-1)!, /^s OK/);
    const validity = code(/\[UIDVALIDITY (\d+)\]/, selected.lines)!;
    const modseq = code(/\[HIGHESTMODSEQ (\d+)\]/, selected.lines)!;
    await run(c, 'FETCH 1:* (RFC822.SIZE BODY.PEEK[HEADER])'); // the message cache learns the sizes
    await run(c, 'UNSELECT');
    await run(c, 'STATUS Reports (UNSEEN)'); // the first exact UNSEEN count at this state
    const warm = await run(c, 'STATUS Reports (MESSAGES UIDNEXT UIDVALIDITY UNSEEN HIGHESTMODSEQ SIZE)');
    assert.deepEqual(warm.lines, [`* STATUS Reports (MESSAGES 4 UIDNEXT 5 UIDVALIDITY ${validity} UNSEEN 3 HIGHESTMODSEQ ${modseq} SIZE ${size})`, 's OK STATUS completed']);
    assert.deepEqual(warm.requests.map((r) => r.methods), ONE);
    // In a fresh session too (the tree is kept per account, not per session).
    const d = await login();
    const again = await run(d, 'STATUS Reports (MESSAGES UIDNEXT UNSEEN)');
    assert.deepEqual(again.lines[0], '* STATUS Reports (MESSAGES 4 UIDNEXT 5 UNSEEN 3)');
    assert.deepEqual(again.requests.map((r) => r.methods), ONE);
    c.close();
    d.close();
  });

  test('STATUS right after a JMAP-side change shows it: new mail, a flag, a rename, a delete, rights taken away', async () => {
    const id = await createMailbox('Watched');
    fill('Watched', [['w1', []], ['w2', ['$seen']]]);
    const c = await login();
    const first = await run(c, 'STATUS Watched (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)');
    const validity = code(/UIDVALIDITY (\d+)/, first.lines)!;
    assert.equal(first.lines[0], `* STATUS Watched (MESSAGES 2 UIDNEXT 3 UIDVALIDITY ${validity} UNSEEN 1)`);
    assert.deepEqual((await run(c, 'STATUS Watched (MESSAGES)')).requests.map((r) => r.methods), ONE, 'warm before the changes');
    // New mail delivered.
    const { emailId } = bed.store.importMessage(bed.user, 'Watched', message('w3'), { receivedAt: new Date(T0 + 5000) });
    assert.equal((await run(c, 'STATUS Watched (MESSAGES UIDNEXT UNSEEN)')).lines[0], '* STATUS Watched (MESSAGES 3 UIDNEXT 4 UNSEEN 2)');
    // A webmail reads it.
    await jmap(bed, [['Email/set', { accountId, update: { [emailId]: { 'keywords/$seen': true } } }, 'u']]);
    assert.equal((await run(c, 'STATUS Watched (MESSAGES UNSEEN)')).lines[0], '* STATUS Watched (MESSAGES 3 UNSEEN 1)');
    // ... and removes it from the mailbox (RFC 9051 §6.3.11: MESSAGES is the count now).
    const inbox = ((await jmap(bed, [['Mailbox/query', { accountId, filter: { role: 'inbox' } }, 'q']]))[0]![1].ids as string[])[0]!;
    await jmap(bed, [['Email/set', { accountId, update: { [emailId]: { mailboxIds: { [inbox]: true } } } }, 'm']]);
    assert.equal((await run(c, 'STATUS Watched (MESSAGES UIDNEXT UNSEEN)')).lines[0], '* STATUS Watched (MESSAGES 2 UIDNEXT 4 UNSEEN 1)');
    // Renamed: the old name names nothing, the new one the same mailbox (same UIDVALIDITY, RFC 9051 §6.3.6).
    await jmap(bed, [['Mailbox/set', { accountId, update: { [id]: { name: 'Renamed' } } }, 'r']]);
    assert.match((await run(c, 'STATUS Watched (MESSAGES)')).lines.at(-1)!, /^s NO \[NONEXISTENT\]/);
    assert.equal((await run(c, 'STATUS Renamed (MESSAGES UIDVALIDITY)')).lines[0], `* STATUS Renamed (MESSAGES 2 UIDVALIDITY ${validity})`);
    assert.deepEqual((await run(c, 'STATUS Renamed (MESSAGES)')).requests.map((r) => r.methods), ONE, 'warm again');
    // Rights taken away without the Mailbox state moving (the probe's Mailbox/get of the mailbox sees it).
    hidden.add(id);
    try {
      assert.match((await run(c, 'STATUS Renamed (MESSAGES)')).lines.at(-1)!, /^s NO \[NOPERM\]/);
    } finally {
      hidden.delete(id);
    }
    assert.equal((await run(c, 'STATUS Renamed (MESSAGES)')).lines[0], '* STATUS Renamed (MESSAGES 2)');
    // Deleted.
    await jmap(bed, [['Mailbox/set', { accountId, destroy: [id], onDestroyRemoveEmails: true }, 'd']]);
    assert.match((await run(c, 'STATUS Renamed (MESSAGES)')).lines.at(-1)!, /^s NO \[NONEXISTENT\]/);
    c.close();
  });

  test('a STATUS sweep over folders (Thunderbird): one request each, and a change between two of them is seen', async () => {
    for (const name of ['Sweep1', 'Sweep2', 'Sweep3']) await createMailbox(name);
    fill('Sweep1', [['a1', []]]);
    fill('Sweep2', [['b1', ['$seen']], ['b2', []]]);
    const c = await login();
    const sweep = async () => {
      const out: string[] = [];
      for (const name of ['Sweep1', 'Sweep2', 'Sweep3']) {
        const r = await run(c, `STATUS ${name} (MESSAGES UIDNEXT UNSEEN)`);
        out.push(`${r.lines[0]} [${JSON.stringify(r.requests.map((x) => x.methods))}]`);
      }
      return out;
    };
    await sweep(); // first sight of each map (and of the new folders in the tree)
    const one = JSON.stringify(ONE);
    assert.deepEqual(await sweep(), [
      `* STATUS Sweep1 (MESSAGES 1 UIDNEXT 2 UNSEEN 1) [${one}]`,
      `* STATUS Sweep2 (MESSAGES 2 UIDNEXT 3 UNSEEN 1) [${one}]`,
      `* STATUS Sweep3 (MESSAGES 0 UIDNEXT 1 UNSEEN 0) [${one}]`,
    ]);
    // New mail in Sweep2 after Sweep1's STATUS, before Sweep2's: its STATUS shows it.
    assert.equal((await run(c, 'STATUS Sweep1 (MESSAGES UIDNEXT UNSEEN)')).lines[0], '* STATUS Sweep1 (MESSAGES 1 UIDNEXT 2 UNSEEN 1)');
    bed.store.importMessage(bed.user, 'Sweep2', message('b3'), { receivedAt: new Date(T0 + 9000) });
    assert.equal((await run(c, 'STATUS Sweep2 (MESSAGES UIDNEXT UNSEEN)')).lines[0], '* STATUS Sweep2 (MESSAGES 3 UIDNEXT 4 UNSEEN 2)');
    c.close();
  });

  test('a sweep after a change elsewhere: no new UNSEEN count for an untouched folder; an own EXPUNGE, a flag or new mail there are counted', async () => {
    for (const name of ['Carry1', 'Carry2']) await createMailbox(name);
    fill('Carry1', [['c1', ['$seen']], ['c2', []], ['c3', []]]);
    fill('Carry2', [['d1', []]]);
    const c = await login();
    const status = async (name: string) => {
      const r = await run(c, `STATUS ${name} (MESSAGES UNSEEN)`);
      return { line: r.lines[0], methods: r.requests.map((x) => x.methods), counted: r.requests.some((x) => x.methods.includes('Email/query')) };
    };
    await status('Carry1');
    assert.deepEqual(await status('Carry1'), { line: '* STATUS Carry1 (MESSAGES 3 UNSEEN 2)', methods: ONE, counted: false });
    // New mail in Carry2: the account's Email state moves, nothing of Carry1 changes.
    bed.store.importMessage(bed.user, 'Carry2', message('d2'), { receivedAt: new Date(T0 + 9000) });
    const after = await status('Carry1');
    assert.equal(after.line, '* STATUS Carry1 (MESSAGES 3 UNSEEN 2)');
    assert.equal(after.counted, false, `no count request: ${JSON.stringify(after.methods)}`);
    assert.deepEqual(after.methods, [...ONE, ['Email/get']], 'the probe, then the sync reading the changed email');
    assert.equal((await status('Carry2')).line, '* STATUS Carry2 (MESSAGES 2 UNSEEN 2)');
    // Another session expunges an unseen message of Carry1 (\Deleted lives in the gateway, then EXPUNGE writes JMAP),
    // just after a delivery elsewhere: its write does not start at the map's state, so the map keeps that state (sync.ts
    // passOwnWrite) and only its numbers show the expunge; the remembered count must not survive it.
    const d = await login();
    await run(d, 'SELECT Carry1');
    assert.match((await run(d, 'UID STORE 2 +FLAGS.SILENT (\\Deleted)')).lines.at(-1)!, /^s OK/);
    bed.store.importMessage(bed.user, 'Carry2', message('d3'), { receivedAt: new Date(T0 + 9200) });
    assert.match((await run(d, 'EXPUNGE')).lines.at(-1)!, /^s OK/);
    d.close();
    assert.equal((await status('Carry1')).line, '* STATUS Carry1 (MESSAGES 2 UNSEEN 1)');
    // A webmail reads the last unseen one; then new mail arrives in Carry1.
    const carry1 = ((await jmap(bed, [['Mailbox/query', { accountId, filter: { name: 'Carry1' } }, 'q']]))[0]![1].ids as string[])[0]!;
    const ids = (await jmap(bed, [['Email/query', { accountId, filter: { inMailbox: carry1, notKeyword: '$seen' } }, 'q']]))[0]![1].ids as string[];
    assert.equal(ids.length, 1);
    await jmap(bed, [['Email/set', { accountId, update: { [ids[0]!]: { 'keywords/$seen': true } } }, 'u']]);
    assert.equal((await status('Carry1')).line, '* STATUS Carry1 (MESSAGES 2 UNSEEN 0)');
    bed.store.importMessage(bed.user, 'Carry1', message('c4'), { receivedAt: new Date(T0 + 9500) });
    assert.equal((await status('Carry1')).line, '* STATUS Carry1 (MESSAGES 3 UNSEEN 1)');
    c.close();
  });

  test('LIST-STATUS (RFC 5819): the listed mailboxes share one Email/changes, and show JMAP changes made before it', async () => {
    for (const name of ['Many1', 'Many2', 'Many3', 'Many4']) await createMailbox(name);
    fill('Many1', [['m1', []], ['m2', []]]);
    fill('Many2', [['n1', ['$seen']]]);
    fill('Many4', [['p1', ['$draft']]]);
    const c = await login();
    const list = async () => {
      const r = await run(c, 'LIST "" "Many*" RETURN (STATUS (MESSAGES UIDNEXT UNSEEN))');
      assert.match(r.lines.at(-1)!, /^s OK/);
      return { statuses: r.lines.filter((l) => l.startsWith('* STATUS ')), requests: r.requests.map((x) => x.methods) };
    };
    await list(); // first sight of each map
    const warm = await list();
    assert.deepEqual(warm.statuses, [
      '* STATUS Many1 (MESSAGES 2 UIDNEXT 3 UNSEEN 2)',
      '* STATUS Many2 (MESSAGES 1 UIDNEXT 2 UNSEEN 0)',
      '* STATUS Many3 (MESSAGES 0 UIDNEXT 1 UNSEEN 0)',
      '* STATUS Many4 (MESSAGES 1 UIDNEXT 2 UNSEEN 1)',
    ]);
    assert.deepEqual(warm.requests, [['Mailbox/get'], ['Email/changes']], 'the tree, then one Email/changes for the four');
    // A delivery into Many3 and a flag change in Many1, made in JMAP before the LIST.
    bed.store.importMessage(bed.user, 'Many3', message('o1'), { receivedAt: new Date(T0 + 7000) });
    const many1 = ((await jmap(bed, [['Mailbox/query', { accountId, filter: { name: 'Many1' } }, 'q']]))[0]![1].ids as string[])[0]!;
    const [first] = (await jmap(bed, [['Email/query', { accountId, filter: { inMailbox: many1 }, sort: [{ property: 'receivedAt', isAscending: true }] }, 'q']]))[0]![1].ids as string[];
    await jmap(bed, [['Email/set', { accountId, update: { [first!]: { 'keywords/$seen': true } } }, 'u']]);
    assert.deepEqual((await list()).statuses, [
      '* STATUS Many1 (MESSAGES 2 UIDNEXT 3 UNSEEN 1)',
      '* STATUS Many2 (MESSAGES 1 UIDNEXT 2 UNSEEN 0)',
      '* STATUS Many3 (MESSAGES 1 UIDNEXT 2 UNSEEN 1)',
      '* STATUS Many4 (MESSAGES 1 UIDNEXT 2 UNSEEN 1)',
    ]);
    c.close();
  });

  test('a shared account (Other Users/): warm STATUS and SELECT in one request to that account, changes there seen', async () => {
    const shared = `"Other Users/${bed.user}/Team"`;
    const id = await createMailbox('Team');
    fill('Team', [['t1', []], ['t2', ['$seen']]]);
    const bob = await login(BOB, PW);
    assert.match((await run(bob, `STATUS ${shared} (MESSAGES UNSEEN)`)).lines.at(-1)!, /^s OK/); // the account's tree is read
    const status = await run(bob, `STATUS ${shared} (MESSAGES UIDNEXT UNSEEN)`);
    assert.equal(status.lines[0], `* STATUS ${shared} (MESSAGES 2 UIDNEXT 3 UNSEEN 1)`);
    assert.deepEqual(status.requests, [{ methods: ONE[0], accounts: [accountId] }], 'one request, to the shared account');
    const selected = await run(bob, `SELECT ${shared}`);
    assert.match(selected.lines.at(-1)!, /^s OK \[READ-WRITE\]/);
    assert.ok(selected.lines.includes('* 2 EXISTS'), selected.lines.join('\n'));
    assert.equal(code(/\[MAILBOXID \(([^)]+)\)\]/, selected.lines), id);
    assert.deepEqual(selected.requests, [{ methods: ONE[0], accounts: [accountId] }], 'warm shared SELECT: one request');
    await run(bob, 'UNSELECT');
    // alice's account changes in JMAP: new mail, then the mailbox is renamed.
    bed.store.importMessage(bed.user, 'Team', message('t3'), { receivedAt: new Date(T0 + 8000) });
    assert.equal((await run(bob, `STATUS ${shared} (MESSAGES UIDNEXT UNSEEN)`)).lines[0], `* STATUS ${shared} (MESSAGES 3 UIDNEXT 4 UNSEEN 2)`);
    await jmap(bed, [['Mailbox/set', { accountId, update: { [id]: { name: 'Crew' } } }, 'r']]);
    assert.match((await run(bob, `SELECT ${shared}`)).lines.at(-1)!, /^s NO \[NONEXISTENT\]/);
    const crew = await run(bob, `SELECT "Other Users/${bed.user}/Crew"`);
    assert.match(crew.lines.at(-1)!, /^s OK \[READ-WRITE\]/);
    assert.ok(crew.lines.includes('* 3 EXISTS'), crew.lines.join('\n'));
    // bob's own INBOX is still his (the shared tree is kept apart from his own).
    assert.match((await run(bob, 'STATUS INBOX (MESSAGES)')).lines[0]!, /^\* STATUS INBOX \(MESSAGES 0\)$/);
    bob.close();
  });
});
