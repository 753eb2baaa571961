/**
 * A warm SELECT in one JMAP request (src/session/tree-cache.ts, DESIGN.md rule 8): the account's mailbox tree is kept
 * between sessions and checked by `Mailbox/changes` in the same request as the sync's `Email/changes` (RFC 8620
 * §3.3), with a Mailbox/get of the named mailbox. What a client sees must not depend on the kept tree: a mailbox renamed, deleted or created in JMAP between
 * two SELECTs is seen at once (RFC 9051 §6.3.2: SELECT of a name that no longer exists is NO, RFC 5530 NONEXISTENT;
 * a rename keeps UIDVALIDITY: the JMAP id, and so the UID map, is the same, RFC 8474 §4.2 MAILBOXID too), and a
 * share turned read-only gives [READ-ONLY] at the next SELECT (RFC 9051 §6.3.2, RFC 8620 §2 isReadOnly).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const BOB = 'bob@example.test';
const PW = 'bob password';

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`From: t${i}@example.org\r\nSubject: tree ${i}\r\nMessage-ID: <tree${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

describe('warm SELECT with the kept mailbox tree', () => {
  let bed: TestBed;
  let accountId = '';
  /** Method names of each JMAP API request the gateway sent. */
  let requests: string[][] = [];

  before(async () => {
    bed = await startTestBed({
      wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
        const body = typeof init?.body === 'string' ? init.body : '';
        if (body) requests.push((JSON.parse(body) as { methodCalls: Array<[string]> }).methodCalls.map((m) => m[0]));
        return inner(input, init);
      }) as typeof fetch,
    });
    bed.store.createUser(BOB, PW);
    const t0 = Date.UTC(2024, 0, 1);
    for (let i = 1; i <= 5; i++) bed.store.importMessage(bed.user, 'inbox', message(i), { receivedAt: new Date(t0 + i * 1000) });
    accountId = await accountIdOf(bed);
  });
  after(() => bed.close());

  async function login(user = bed.user, password = bed.password): Promise<RawClient> {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    assert.match((await c.command('l', `LOGIN "${user}" "${password}"`)).at(-1)!, /^l OK/);
    return c;
  }

  /** A command in a fresh session; its lines and the JMAP requests it cost. */
  async function fresh(text: string, user?: string, password?: string): Promise<{ lines: string[]; methods: string[][] }> {
    const c = await login(user, password);
    requests = [];
    const lines = await c.command('s', text);
    const methods = requests;
    c.close();
    return { lines, methods };
  }

  const code = (re: RegExp, lines: string[]) => re.exec(lines.join('\n'))?.[1];

  async function mailboxId(name: string): Promise<string> {
    const got = (await jmap(bed, [['Mailbox/get', { accountId, properties: ['name'] }, '0']]))[0]![1];
    return (got.list as Array<{ id: string; name: string }>).find((m) => m.name === name)!.id;
  }

  test('an unchanged account: one request (Mailbox/changes, Mailbox/get, Email/changes); the same after JMAP keyword changes', async () => {
    await fresh('SELECT INBOX'); // first sight: the tree and the UID map are read
    const warm = await fresh('SELECT INBOX');
    assert.match(warm.lines.at(-1)!, /^s OK \[READ-WRITE\]/);
    assert.ok(warm.lines.includes('* 5 EXISTS'), warm.lines.join('\n'));
    assert.deepEqual(warm.methods, [['Mailbox/changes', 'Mailbox/get', 'Email/changes']]);
    // Another mailbox selected in between changes nothing for INBOX's cost.
    await fresh('EXAMINE Archive');
    assert.deepEqual((await fresh('EXAMINE INBOX')).methods, [['Mailbox/changes', 'Mailbox/get', 'Email/changes']]);
    // A keyword change moves the Mailbox state through its counters only (RFC 8621 §2.2 updatedProperties): the tree
    // is not read again; the sync reads the changed email.
    const [id] = (await jmap(bed, [['Email/query', { accountId, filter: { inMailbox: await mailboxId('Inbox') } }, 'q']]))[0]![1].ids as string[];
    await jmap(bed, [['Email/set', { accountId, update: { [id!]: { 'keywords/$seen': true } } }, 's']]);
    const after = await fresh('SELECT INBOX');
    assert.deepEqual(after.methods[0], ['Mailbox/changes', 'Mailbox/get', 'Email/changes']);
    assert.ok(after.methods.slice(1).every((m) => !m.includes('Mailbox/get')), JSON.stringify(after.methods));
  });

  test('a JMAP rename between two SELECTs: the old name is NO [NONEXISTENT], the new one opens with the same UIDVALIDITY', async () => {
    const create = await jmap(bed, [['Mailbox/set', { accountId, create: { k: { name: 'Projects' } } }, 'c']]);
    const id = ((create[0]![1].created as Record<string, { id: string }>).k!).id;
    const before = await fresh('SELECT Projects');
    assert.match(before.lines.at(-1)!, /^s OK/);
    const validity = code(/\[UIDVALIDITY (\d+)\]/, before.lines);
    assert.equal((await fresh('SELECT Projects')).methods.length, 1, 'warm: one request');
    await jmap(bed, [['Mailbox/set', { accountId, update: { [id]: { name: 'Plans' } } }, 'u']]);
    const old = await fresh('SELECT Projects');
    assert.match(old.lines.at(-1)!, /^s NO \[NONEXISTENT\]/);
    const renamed = await fresh('SELECT Plans');
    assert.match(renamed.lines.at(-1)!, /^s OK \[READ-WRITE\]/);
    assert.equal(code(/\[UIDVALIDITY (\d+)\]/, renamed.lines), validity);
    assert.equal(code(/\[MAILBOXID \(([^)]+)\)\]/, renamed.lines), id);
  });

  test('a JMAP delete and a JMAP create between two SELECTs are seen', async () => {
    const create = await jmap(bed, [['Mailbox/set', { accountId, create: { k: { name: 'Soon gone' } } }, 'c']]);
    const id = ((create[0]![1].created as Record<string, { id: string }>).k!).id;
    assert.match((await fresh('SELECT "Soon gone"')).lines.at(-1)!, /^s OK/);
    assert.match((await fresh('SELECT "Soon gone"')).lines.at(-1)!, /^s OK/);
    await jmap(bed, [['Mailbox/set', { accountId, destroy: [id], onDestroyRemoveEmails: true }, 'd']]);
    assert.match((await fresh('SELECT "Soon gone"')).lines.at(-1)!, /^s NO \[NONEXISTENT\]/);
    assert.match((await fresh('SELECT INBOX')).lines.at(-1)!, /^s OK/); // the tree is kept again
    await jmap(bed, [['Mailbox/set', { accountId, create: { k: { name: 'Brand new' } } }, 'c']]);
    const created = await fresh('SELECT "Brand new"');
    assert.match(created.lines.at(-1)!, /^s OK \[READ-WRITE\]/);
    assert.ok(created.lines.includes('* 0 EXISTS'), created.lines.join('\n'));
  });

  test('a share turned read-only between two SELECTs: [READ-ONLY] at the next one', async () => {
    bed.store.shareAccount(bed.user, BOB);
    const shared = `"Other Users/${bed.user}/INBOX"`;
    assert.match((await fresh(`SELECT ${shared}`, BOB, PW)).lines.at(-1)!, /^s OK \[READ-WRITE\]/);
    assert.match((await fresh('SELECT INBOX', BOB, PW)).lines.at(-1)!, /^s OK \[READ-WRITE\]/);
    assert.match((await fresh('SELECT INBOX', BOB, PW)).lines.at(-1)!, /^s OK \[READ-WRITE\]/);
    bed.store.shareAccount(bed.user, BOB, { readOnly: true });
    assert.match((await fresh(`SELECT ${shared}`, BOB, PW)).lines.at(-1)!, /^s OK \[READ-ONLY\]/);
    assert.match((await fresh('SELECT INBOX', BOB, PW)).lines.at(-1)!, /^s OK \[READ-WRITE\]/, 'bob\'s own INBOX stays his');
  });
});
