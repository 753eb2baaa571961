/**
 * DESIGN.md rule 10 (a write whose outcome is unknown is read back before it is sent again): an APPEND whose
 * `Email/import` answer comes too late (the store did import) while another session IDLEs on the target mailbox, so
 * that session's sync gives the new email a UID meanwhile. The read-back must still find it (what counts as "already
 * there" is fixed before the request is sent): the message is stored once, not twice.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

let bed: TestBed;
let accountId: string;
let late = false;
before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => async (input, init) => {
      const body = typeof init?.body === 'string' ? init.body : '';
      if (late && body.includes('"Email/import"')) {
        late = false;
        const res = await inner(input, init); // the store imports...
        await res.arrayBuffer();
        await new Promise((r) => setTimeout(r, 1_500)); // ...but its answer is late: the gateway gives up
        throw new TypeError('fetch failed');
      }
      return inner(input, init);
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

test('an APPEND whose answer is lost while another session syncs the target stores the message once', async () => {
  const c = await login();
  await c.command('C', 'CREATE Race');
  const m0 = message('x0');
  assert.match((await c.command('A0', `APPEND Race {${m0.length}+}\r\n${m0}`, 10_000)).at(-1)!, /^A0 OK/);
  await c.command('S', 'SELECT Race');
  const d = await login();
  await d.command('S', 'SELECT Race');
  d.write('I IDLE\r\n');
  assert.match(await d.line(), /^\+ /);
  late = true;
  const m1 = message('x1');
  const a = await c.command('A1', `APPEND Race {${m1.length}+}\r\n${m1}`, 20_000);
  assert.match(a.at(-1)!, /^A1 OK \[APPENDUID \d+ 2\]/, 'the read-back found the import: APPENDUID of the one message');
  const r = await jmap(bed, [['Mailbox/get', { accountId, ids: null, properties: ['name'] }, 'm']]);
  const id = (r[0]![1].list as Array<{ id: string; name: string }>).find((m) => m.name === 'Race')!.id;
  const q = await jmap(bed, [['Email/query', { accountId, filter: { inMailbox: id } }, 'q'],
    ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['subject'] }, 'g']]);
  const subjects = (q[1]![1].list as Array<{ subject: string }>).map((e) => e.subject).sort();
  d.close();
  c.close();
  assert.deepEqual(subjects, ['x0', 'x1']);
});
