/**
 * `\Deleted` is kept by the gateway (JMAP has no such keyword), so it must still behave as one flag of the mailbox
 * for every session (RFC 9051 §2.3.2, §6.4.3): another session sees it at NOOP, and its EXPUNGE removes it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { MULTIPART, SIMPLE } from '../fixtures/messages.ts';

let bed: TestBed;
before(async () => {
  bed = await startTestBed();
  bed.store.importMessage(bed.user, 'inbox', SIMPLE, { receivedAt: new Date(Date.UTC(2024, 0, 1)) });
  bed.store.importMessage(bed.user, 'inbox', MULTIPART, { receivedAt: new Date(Date.UTC(2024, 0, 2)) });
});
after(() => bed.close());

async function session(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('s', 'SELECT INBOX');
  return c;
}

test("another session's \\Deleted is reported at NOOP, and this session's EXPUNGE removes the message", async () => {
  const a = await session();
  const b = await session();
  await a.command('a1', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
  const noop = await b.command('b1', 'NOOP');
  assert.ok(noop.includes('* 1 FETCH (UID 1 FLAGS (\\Deleted))'), noop.join('\n'));
  const ex = await b.command('b2', 'EXPUNGE');
  assert.deepEqual(ex.slice(0, -1), ['* 1 EXPUNGE']);
  assert.match(ex.at(-1)!, /^b2 OK /);
  const left = await b.command('b3', 'UID FETCH 1:* FLAGS');
  assert.deepEqual(left.slice(0, -1), ['* 1 FETCH (UID 2 FLAGS ())']);
  a.close();
  b.close();
});
