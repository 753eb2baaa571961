/**
 * RFC 9051 §7.5.2 / RFC 7162 §3.2.7: another session's `\Deleted` on a message that UID EXPUNGE leaves alone is still
 * reported to this session (FETCH FLAGS), before the tagged OK whose [HIGHESTMODSEQ] covers it. The gateway keeps
 * `\Deleted` in the UID store (DESIGN.md rule 6); EXPUNGE reads it there and must not thereby hide the change.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const beds: TestBed[] = [];
const clients: RawClient[] = [];
after(async () => {
  for (const c of clients) c.close();
  await Promise.all(beds.map((b) => b.close()));
});
async function login(bed: TestBed): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  clients.push(c);
  await c.line();
  await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`);
  return c;
}

test('UID EXPUNGE of one message reports another session\'s \\Deleted on a message it keeps', async () => {
  const bed = await startTestBed();
  beds.push(bed);
  for (let i = 1; i <= 6; i++) {
    bed.store.importMessage(bed.user, 'inbox', new TextEncoder().encode(`Subject: m${i}\r\nMessage-ID: <m${i}@x>\r\n\r\nb${i}\r\n`),
      { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000) });
  }
  const a = await login(bed);
  const b = await login(bed);
  await a.command('e', 'ENABLE QRESYNC');
  await a.command('s', 'SELECT INBOX');
  await b.command('s', 'SELECT INBOX');
  await a.command('a1', 'STORE 5 +FLAGS.SILENT (\\Deleted)');
  const bs = await b.command('b1', 'STORE 3 +FLAGS (\\Deleted)');
  const m = Number(/^\* 3 FETCH \(.*MODSEQ \((\d+)\)/m.exec(bs.join('\n'))?.[1] ?? /MODSEQ \((\d+)\)/.exec(bs.join('\n'))?.[1] ?? 0);
  const ex = await a.command('a2', 'UID EXPUNGE 5');
  const noop = await a.command('a3', 'NOOP');
  const told = [...ex, ...noop].filter((l) => /^\* 3 FETCH /.test(l));
  assert.equal(told.length, 1, `one FETCH of message 3 in ${JSON.stringify([...ex, ...noop])}`);
  assert.match(told[0]!, /FLAGS \(\\Deleted\)/);
  const highest = Number(/^a2 OK \[HIGHESTMODSEQ (\d+)\]/.exec(ex.at(-1)!)?.[1]);
  if (ex.some((l) => /^\* 3 FETCH /.test(l))) assert.ok(highest >= 1, 'reported before the tagged OK');
  else assert.ok(m === 0 || highest < m, `HIGHESTMODSEQ ${highest} must not cover the unreported change (${m})`);
});
