/**
 * JMAP accounts shared with the user (RFC 8620 §2 `accounts` with `isPersonal: false`) as IMAP's other-users
 * namespace (RFC 2342 §5, RFC 9051 §6.3.10): alice shares her account with bob read-write and with carol read-only
 * in the embedded store; bob and carol reach it as `Other Users/alice@example.test/...` through the gateway.
 * Expected values come from the RFCs (RFC 2342 §5 example 5.7, RFC 9051 §6.3.2 [READ-ONLY], RFC 5530 NOPERM,
 * RFC 4315 COPYUID/APPENDUID) and from what alice's own session shows for the same messages.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const BOB = 'bob@example.test';
const CAROL = 'carol@example.test';
const DAVE = 'dave@example.test';
const PW = 'another fine password';
const SHARED = 'Other Users/alice@example.test';

const enc = new TextEncoder();
function message(subject: string): Uint8Array {
  return enc.encode(`From: x@example.org\r\nTo: y@example.org\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replaceAll(' ', '.')}@example.org>\r\n\r\nbody of ${subject}\r\n`);
}

async function login(bed: TestBed, user: string, password = PW): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  const r = await c.command('L', `LOGIN "${user}" "${password}"`);
  assert.match(r.at(-1)!, /^L OK/);
  return c;
}

/** UID -> Subject of every message of the selected mailbox. */
async function subjectsByUid(c: RawClient): Promise<Map<number, string>> {
  const lines = await c.command('F', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
  const out = new Map<number, string>();
  for (let i = 0; i < lines.length; i++) {
    const m = /^\* \d+ FETCH \(UID (\d+) BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}$/.exec(lines[i]!);
    if (m) out.set(Number(m[1]), lines[i + 1]!.replace(/^Subject: /, ''));
  }
  return out;
}

describe('JMAP accounts shared with the user as the other-users namespace', () => {
  let bed: TestBed;
  /** JMAP API requests the gateway sent (DESIGN.md rule 8). */
  let apiCalls = 0;
  /** An accountId whose `Email/set` destroys the store refuses (403), to make a MOVE fail half-way. */
  let refuseDestroyIn: string | null = null;
  before(async () => {
    bed = await startTestBed({ wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      if (String(input instanceof Request ? input.url : input).includes('/jmap/api')) apiCalls++;
      const body = typeof init?.body === 'string' ? init.body : '';
      if (refuseDestroyIn && body.includes('"Email/set"') && body.includes('"destroy"') && body.includes(`"accountId":"${refuseDestroyIn}"`)) {
        return new Response('{}', { status: 403 });
      }
      return inner(input, init);
    }) as typeof fetch });
    for (const u of [BOB, CAROL, DAVE]) bed.store.createUser(u, PW);
    const t0 = Date.UTC(2024, 0, 1);
    bed.store.importMessage(bed.user, 'inbox', message('alice one'), { receivedAt: new Date(t0) });
    bed.store.importMessage(bed.user, 'inbox', message('alice two'), { receivedAt: new Date(t0 + 1000), keywords: ['$seen'] });
    bed.store.importMessage(BOB, 'inbox', message('bob own'), { receivedAt: new Date(t0 + 2000) });
    bed.store.shareAccount(bed.user, BOB);
    bed.store.shareAccount(bed.user, CAROL, { readOnly: true });
    // alice's UID map burns UID 3 (APPEND, then EXPUNGE) before anyone else opens her INBOX: a UID map of its own
    // for bob would hand out 3 again, the shared account's map (keyed by alice's account) never does.
    const alice = await login(bed, bed.user, bed.password);
    await alice.command('S', 'SELECT INBOX');
    const tmp = message('burnt');
    alice.write(`A APPEND INBOX (\\Deleted) {${tmp.length}+}\r\n`);
    alice.write(tmp);
    alice.write('\r\n');
    assert.match((await alice.until('A')).at(-1)!, /^A OK \[APPENDUID \d+ 3\]/);
    assert.match((await alice.command('E', 'EXPUNGE')).at(-1)!, /^E OK/);
    alice.close();
  });
  after(() => bed.close());

  test('NAMESPACE: other users only for a user with shared accounts (RFC 2342 §5)', async () => {
    const bob = await login(bed, BOB);
    assert.deepEqual(await bob.command('N', 'NAMESPACE'), ['* NAMESPACE (("" "/")) (("Other Users/" "/")) NIL', 'N OK NAMESPACE completed']);
    bob.close();
    const dave = await login(bed, DAVE);
    assert.equal((await dave.command('N', 'NAMESPACE'))[0], '* NAMESPACE (("" "/")) NIL NIL');
    assert.deepEqual((await dave.command('L2', 'LIST "" "Other Users*"')).length, 1, 'no other users for dave');
    dave.close();
  });

  test('LIST: Other Users/% lists the account, % the \\Noselect root, * every mailbox of the shared account', async () => {
    const bob = await login(bed, BOB);
    assert.deepEqual(await bob.command('A', 'LIST "" "Other Users/%"'), [`* LIST (\\Noselect \\HasChildren) "/" "${SHARED}"`, 'A OK LIST completed']);
    const top = await bob.command('B', 'LIST "" %');
    assert.ok(top.includes('* LIST (\\Noselect \\HasChildren) "/" "Other Users"'), top.join('\n'));
    assert.ok(top.includes('* LIST (\\HasNoChildren) "/" INBOX'), 'bob\'s own INBOX is still INBOX');
    assert.ok(!top.some((l) => l.includes(`${SHARED}/`)), '% stops at the first level');
    const all = await bob.command('C', 'LIST "" *');
    assert.ok(all.includes(`* LIST (\\HasNoChildren) "/" "${SHARED}/INBOX"`), all.join('\n'));
    assert.ok(all.includes(`* LIST (\\HasNoChildren \\Sent) "/" "${SHARED}/Sent"`), all.join('\n'));
    assert.ok(all.includes(`* LIST (\\Noselect \\HasChildren) "/" "${SHARED}"`));
    const inside = await bob.command('D', `LIST "${SHARED}/" %`);
    assert.equal(inside.filter((l) => l.startsWith('* LIST')).length, 6, 'the six standard mailboxes of alice');
    const ext = await bob.command('E', `LIST (SPECIAL-USE) "" "Other Users/*" RETURN (STATUS (MESSAGES))`);
    assert.ok(ext.includes(`* LIST (\\HasNoChildren \\Sent) "/" "${SHARED}/Sent"`), ext.join('\n'));
    assert.ok(!ext.some((l) => l.endsWith('/INBOX"')), 'INBOX has no special use');
    assert.deepEqual(await bob.command('S', `STATUS "${SHARED}/INBOX" (MESSAGES UNSEEN)`), [`* STATUS "${SHARED}/INBOX" (MESSAGES 2 UNSEEN 1)`, 'S OK STATUS completed']);
    assert.match((await bob.command('X', 'SELECT "Other Users"')).at(-1)!, /^X NO /, 'a \\Noselect level cannot be selected');
    assert.match((await bob.command('Y', `SELECT "${SHARED}/Nope"`)).at(-1)!, /^Y NO \[NONEXISTENT\]/);
    bob.close();
  });

  test('SELECT and FETCH as bob: the same UIDs and messages as alice\'s own session', async () => {
    const alice = await login(bed, bed.user, bed.password);
    await alice.command('S', 'SELECT INBOX');
    const own = await subjectsByUid(alice);
    const bob = await login(bed, BOB);
    const sel = await bob.command('S', `SELECT "${SHARED}/INBOX"`);
    assert.ok(sel.includes('* 2 EXISTS'));
    assert.ok(sel.includes('* OK [UIDNEXT 4] Predicted next UID'), 'alice\'s UID map: UID 3 was used and expunged');
    assert.match(sel.at(-1)!, /^S OK \[READ-WRITE\]/);
    const shared = await subjectsByUid(bob);
    assert.equal(shared.size, 2);
    assert.deepEqual([...shared], [...own]);
    assert.deepEqual([...shared.values()], ['alice one', 'alice two']);
    const flags = await bob.command('G', 'FETCH 1:2 (FLAGS)');
    assert.deepEqual(flags.slice(0, 2), ['* 1 FETCH (FLAGS ())', '* 2 FETCH (FLAGS (\\Seen))']);
    const search = await bob.command('H', 'UID SEARCH UNSEEN');
    assert.equal(search[0], `* SEARCH ${[...own.keys()][0]}`);
    alice.close();
    bob.close();
  });

  test('STORE as bob reaches alice (and her IDLE); APPEND as bob gets APPENDUID with alice\'s UID', async () => {
    const alice = await login(bed, bed.user, bed.password);
    await alice.command('S', 'SELECT INBOX');
    const uids = [...(await subjectsByUid(alice)).keys()];
    alice.write('I IDLE\r\n');
    assert.equal(await alice.line(), '+ idling');
    const bob = await login(bed, BOB);
    await bob.command('S', `SELECT "${SHARED}/INBOX"`);
    const stored = await bob.command('T', `UID STORE ${uids[0]} +FLAGS (\\Flagged)`);
    // RFC 9051 §6.4.9: the untagged FETCH of the new flags, with the UID (order of the items is free).
    assert.ok([`* 1 FETCH (FLAGS (\\Flagged) UID ${uids[0]})`, `* 1 FETCH (UID ${uids[0]} FLAGS (\\Flagged))`].includes(stored[0]!), stored[0]);
    assert.equal(stored[1], 'T OK STORE completed');
    assert.equal(await alice.line(3000), `* 1 FETCH (UID ${uids[0]} FLAGS (\\Flagged))`);
    const raw = message('from bob');
    bob.write(`A APPEND "${SHARED}/INBOX" (\\Seen) {${raw.length}+}\r\n`);
    bob.write(raw);
    bob.write('\r\n');
    const appended = await bob.until('A');
    const m = /^A OK \[APPENDUID (\d+) (\d+)\]/.exec(appended.at(-1)!);
    assert.ok(m, appended.join('\n'));
    assert.equal(m[2], '4', 'the next UID of alice\'s map (3 was expunged)');
    assert.equal(await alice.line(3000), '* 3 EXISTS');
    alice.write('DONE\r\n');
    assert.match(await alice.line(), /^I OK/);
    const after = await subjectsByUid(alice);
    assert.equal(after.get(Number(m[2])), 'from bob', 'alice sees bob\'s message under the APPENDUID UID');
    const uidValidity = (await alice.command('V', 'STATUS INBOX (UIDVALIDITY)'))[0];
    assert.equal(uidValidity, `* STATUS INBOX (UIDVALIDITY ${m[1]})`);
    alice.close();
    bob.close();
  });

  test('COPY from bob\'s own INBOX into alice\'s shared INBOX (COPYUID), and MOVE back out of it', async () => {
    const bob = await login(bed, BOB);
    await bob.command('S', 'SELECT INBOX');
    const copy = await bob.command('C', `COPY 1 "${SHARED}/INBOX"`);
    const m = /^C OK \[COPYUID (\d+) (\d+) (\d+)\]/.exec(copy.at(-1)!);
    assert.ok(m, copy.join('\n'));
    assert.deepEqual((await bob.command('Q', 'FETCH 1 (FLAGS)'))[0], '* 1 FETCH (FLAGS ())', 'the source stays');
    const alice = await login(bed, bed.user, bed.password);
    const sel = await alice.command('S', 'SELECT INBOX');
    assert.ok(sel.includes(`* OK [UIDVALIDITY ${m[1]}] UIDs valid`));
    assert.equal((await subjectsByUid(alice)).get(Number(m[3])), 'bob own');
    // MOVE the copy from alice's shared INBOX into bob's own Archive: it leaves alice's INBOX.
    await bob.command('S2', `SELECT "${SHARED}/INBOX"`);
    const before = await bob.command('U', 'UID SEARCH ALL');
    const moved = await bob.command('M', `UID MOVE ${m[3]} Archive`);
    assert.match(moved.find((l) => l.startsWith('* OK [COPYUID'))!, new RegExp(`^\\* OK \\[COPYUID \\d+ ${m[3]} 1\\]`));
    assert.ok(moved.some((l) => /^\* \d+ EXPUNGE$/.test(l)));
    assert.match(moved.at(-1)!, /^M OK/);
    assert.notEqual(before[0], (await bob.command('U2', 'UID SEARCH ALL'))[0]);
    const archive = await bob.command('R', 'STATUS Archive (MESSAGES)');
    assert.equal(archive[0], '* STATUS Archive (MESSAGES 1)');
    const noop = await alice.command('N', 'NOOP');
    assert.ok(noop.some((l) => /^\* \d+ EXPUNGE$/.test(l)), noop.join('\n'));
    alice.close();
    bob.close();
  });

  test('carol (read-only share): [READ-ONLY] on SELECT, NO [NOPERM] on STORE, APPEND, EXPUNGE and CREATE', async () => {
    const carol = await login(bed, CAROL);
    assert.equal((await carol.command('N', 'NAMESPACE'))[0], '* NAMESPACE (("" "/")) (("Other Users/" "/")) NIL');
    const sel = await carol.command('S', `SELECT "${SHARED}/INBOX"`);
    assert.match(sel.at(-1)!, /^S OK \[READ-ONLY\]/);
    assert.ok(sel.includes('* OK [PERMANENTFLAGS ()] No permanent flags permitted'));
    assert.match((await carol.command('T', 'STORE 1 +FLAGS (\\Flagged)')).at(-1)!, /^T NO \[NOPERM\]/);
    assert.match((await carol.command('E', 'EXPUNGE')).at(-1)!, /^E NO \[NOPERM\]/);
    const raw = message('from carol');
    carol.write(`A APPEND "${SHARED}/INBOX" {${raw.length}+}\r\n`);
    carol.write(raw);
    carol.write('\r\n');
    assert.match((await carol.until('A')).at(-1)!, /^A NO \[NOPERM\]/);
    assert.match((await carol.command('C', `CREATE "${SHARED}/new"`)).at(-1)!, /^C NO \[NOPERM\]/);
    assert.match((await carol.command('C2', `CREATE "Other Users/x"`)).at(-1)!, /^C2 NO \[NOPERM\]/);
    // FETCH BODY[] in a read-only mailbox does not set \Seen (RFC 9051 §6.4.5).
    await carol.command('F', 'FETCH 1 (BODY[])');
    assert.equal((await carol.command('G', 'FETCH 1 (FLAGS)'))[0], '* 1 FETCH (FLAGS (\\Flagged))');
    // RFC 9208 §4.1.2: carol's own quota roots do not hold alice's mailboxes; a mailbox may have no root.
    assert.deepEqual(await carol.command('Q', `GETQUOTAROOT "${SHARED}/INBOX"`), [`* QUOTAROOT "${SHARED}/INBOX"`, 'Q OK GETQUOTAROOT completed']);
    const listed = await carol.command('L', 'LIST "" "Other Users/*"');
    assert.ok(listed.includes(`* LIST (\\HasNoChildren) "/" "${SHARED}/INBOX"`));
    carol.close();
  });

  test('IDLE on a shared mailbox reports changes made in the owner\'s account', async () => {
    const bob = await login(bed, BOB);
    const sel = await bob.command('S', `SELECT "${SHARED}/INBOX"`);
    const exists = Number(/^\* (\d+) EXISTS$/.exec(sel.find((l) => /EXISTS$/.test(l))!)![1]);
    bob.write('I IDLE\r\n');
    assert.equal(await bob.line(), '+ idling');
    bed.store.importMessage(bed.user, 'inbox', message('alice three'));
    assert.equal(await bob.line(3000), `* ${exists + 1} EXISTS`);
    bob.write('DONE\r\n');
    assert.match(await bob.line(), /^I OK/);
    bob.close();
  });

  test('round trips: personal mailboxes cost what they did; shared ones one Mailbox/get of their account (rule 8)', async () => {
    const bob = await login(bed, BOB);
    const cost = async (cmd: string): Promise<number> => {
      const n = apiCalls;
      assert.match((await bob.command('x', cmd)).at(-1)!, /^x OK/, cmd);
      return apiCalls - n;
    };
    assert.equal(await cost('LIST "" %'), 1, 'LIST %: own Mailbox/get; the Other Users levels need no request');
    assert.equal(await cost('LIST "" "Other Users/%"'), 1, 'the levels come from the session');
    assert.equal(await cost('LIST "" *'), 2, 'LIST *: own and alice\'s Mailbox/get');
    assert.equal(await cost(`LIST "" "${SHARED}/*"`), 2, 'LIST of one account: its Mailbox/get (+ own)');
    await cost('STATUS INBOX (MESSAGES)'); // both UID maps synced once (a first sync costs more)
    await cost(`STATUS "${SHARED}/INBOX" (MESSAGES)`);
    assert.equal(await cost('STATUS INBOX (MESSAGES)'), await cost(`STATUS "${SHARED}/INBOX" (MESSAGES)`),
      'STATUS of a shared mailbox costs what STATUS of an own one does');
    assert.equal(await cost('NAMESPACE'), 0);
    bob.close();
  });

  test('a MOVE out of the shared account that fails half-way leaves nothing behind (RFC 9051 §6.4.7, rule 10)', async () => {
    const bob = await login(bed, BOB);
    await bob.command('S', `SELECT "${SHARED}/INBOX"`);
    const before = await subjectsByUid(bob);
    const [uid] = [...before].find(([, subject]) => subject === 'alice one')!;
    const archive = (await bob.command('R', 'STATUS Archive (MESSAGES)'))[0];
    refuseDestroyIn = await accountIdOf(bed);
    try {
      assert.match((await bob.command('M', `UID MOVE ${uid} Archive`)).at(-1)!, /^M NO /);
    } finally {
      refuseDestroyIn = null;
    }
    assert.equal((await bob.command('R2', 'STATUS Archive (MESSAGES)'))[0], archive, 'the copy in bob\'s Archive was undone');
    assert.deepEqual([...await subjectsByUid(bob)], [...before], 'alice\'s INBOX is unchanged');
    bob.close();
  });
});
