/**
 * DESIGN.md rule 10: "After a timeout, read the state back before answering; never report a write that did not
 * happen, never store an APPEND twice." The gateway's fetch to the embedded store fails the first `Email/import`
 * in three ways: the response is lost after the store created the emails (connection dropped), the request never
 * reaches the store, and the response comes too late (the client's timeout). Each time the command must succeed
 * with each message stored exactly once (RFC 4315 APPENDUID / COPYUID naming it), checked in the JMAP store itself.
 * A lost blob-upload answer is simply uploaded again (a second blob is no second message).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

type Fault = 'drop-after' | 'drop-before' | 'late';
let bed: TestBed;
let accountId: string;
/** The fault applied to the next `Email/import` request, then cleared. */
let fault: Fault | null = null;
let imports = 0;
/** When set, the next blob upload's answer is lost after the store kept the blob. */
let dropUpload = false;

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => async (input, init) => {
      if (dropUpload && String(input instanceof Request ? input.url : input).includes('/upload/')) {
        dropUpload = false;
        await (await inner(input, init)).arrayBuffer();
        throw new TypeError('fetch failed');
      }
      if (typeof init?.body !== 'string' || !init.body.includes('"Email/import"')) return inner(input, init);
      imports++;
      const f = fault;
      fault = null;
      if (f === 'drop-before') throw new TypeError('fetch failed');
      const res = await inner(input, init);
      if (f === null) return res;
      await res.arrayBuffer(); // the store has done the work
      if (f === 'drop-after') throw new TypeError('fetch failed');
      if (f === 'late') {
        // Hold the answer until the gateway gives up waiting (its JMAP timeout aborts the request).
        await new Promise<void>((resolve) => init.signal?.addEventListener('abort', () => resolve(), { once: true }));
        throw new DOMException('The operation was aborted', 'AbortError');
      }
      return res;
    },
  });
  accountId = await accountIdOf(bed);
});
after(() => bed.close());

async function createMailbox(name: string): Promise<string> {
  const [, r] = (await jmap(bed, [['Mailbox/set', { accountId, create: { m: { name } } }, '0']]))[0]!;
  return String((r.created as Record<string, { id: string }>).m!.id);
}

async function emailsIn(mailboxId: string): Promise<string[]> {
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

async function append(c: RawClient, mailbox: string, body: string, date = '"01-Feb-2024 10:00:00 +0000"'): Promise<string> {
  const lines = await c.command('A', `APPEND ${mailbox} ${date} {${body.length}+}\r\n${body}`, 10_000);
  return lines.at(-1)!;
}

const message = (n: string) => `From: a@example.org\r\nSubject: ${n}\r\nMessage-ID: <${n}@example.org>\r\n\r\nBody ${n}\r\n`;

for (const f of ['drop-after', 'drop-before', 'late'] as const) {
  test(`APPEND whose Email/import ${f === 'drop-after' ? 'answer is lost' : f === 'drop-before' ? 'never arrives' : 'times out'}: stored exactly once, APPENDUID names it`, async () => {
    const box = await createMailbox(`ap-${f}`);
    const c = await session();
    const sentBefore = imports;
    fault = f;
    const ok = await append(c, `ap-${f}`, message(`ap-${f}`));
    assert.match(ok, /^A OK \[APPENDUID \d+ 1\] /);
    assert.equal((await emailsIn(box)).length, 1, 'one message in the JMAP store');
    assert.equal(imports - sentBefore, f === 'drop-before' ? 2 : 1, 'sent again only when the read-back did not find it');
    assert.equal((await c.command('F', `STATUS ap-${f} (MESSAGES UIDNEXT)`))[0], `* STATUS ap-${f} (MESSAGES 1 UIDNEXT 2)`);
    c.close();
  });
}

test('MULTIAPPEND of two identical messages whose import answer is lost: two messages, not one and not four', async () => {
  const box = await createMailbox('multi');
  const c = await session();
  const body = message('twin');
  fault = 'drop-after';
  const lines = await c.command('A', `APPEND multi "01-Feb-2024 10:00:00 +0000" {${body.length}+}\r\n${body} "01-Feb-2024 10:00:00 +0000" {${body.length}+}\r\n${body}`, 10_000);
  assert.match(lines.at(-1)!, /^A OK \[APPENDUID \d+ 1:2\] /);
  assert.equal((await emailsIn(box)).length, 2);
  c.close();
});

test('COPY next to its source whose import answer is lost: one new copy, the source is not taken for it', async () => {
  const box = await createMailbox('cp');
  const c = await session();
  assert.match(await append(c, 'cp', message('cp')), /^A OK /);
  assert.match((await c.command('S', 'SELECT cp')).at(-1)!, /^S OK /);
  fault = 'drop-after';
  assert.match((await c.command('C', 'UID COPY 1 cp', 10_000)).at(-1)!, /^C OK \[COPYUID \d+ 1 2\] /);
  const ids = await emailsIn(box);
  assert.equal(ids.length, 2, 'the source and one copy');
  fault = 'drop-after';
  assert.match((await c.command('D', 'UID COPY 1 cp', 10_000)).at(-1)!, /^D OK \[COPYUID \d+ 1 3\] /, 'an earlier copy is not taken either');
  assert.equal((await emailsIn(box)).length, 3);
  c.close();
});

test('APPEND whose blob upload answer is lost: uploaded again, the message stored once', async () => {
  const box = await createMailbox('up');
  const c = await session();
  dropUpload = true;
  assert.match(await append(c, 'up', message('up')), /^A OK \[APPENDUID \d+ 1\] /);
  assert.equal(dropUpload, false, 'the fault was applied');
  assert.equal((await emailsIn(box)).length, 1);
  c.close();
});
