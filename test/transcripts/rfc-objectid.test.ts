/**
 * RFC 8474 §4 MAILBOXID, from the RFC's own examples (ids are the JMAP mailbox ids, so they are captured, not
 * fixed): CREATE answers [MAILBOXID (id)], SELECT/EXAMINE send it in an untagged OK, STATUS (MAILBOXID) returns the
 * same id, and a RENAME keeps it (§4). EMAILID / THREADID across COPY and MOVE (§5.1): test/e2e/objectid-copy.test.ts.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

let bed: TestBed;
before(async () => {
  bed = await startTestBed();
});
after(() => bed.close());

test('RFC 8474 §4.1-§4.3: CREATE, SELECT and STATUS agree on MAILBOXID, and RENAME keeps it', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  const foo = /^3 OK \[MAILBOXID \(([A-Za-z0-9_-]{1,255})\)\] /.exec((await c.command('3', 'create foo')).at(-1)!);
  assert.ok(foo, 'CREATE answers [MAILBOXID (objectid)]');
  const bar = /^4 OK \[MAILBOXID \(([A-Za-z0-9_-]+)\)\] /.exec((await c.command('4', 'create bar')).at(-1)!);
  assert.ok(bar && bar[1] !== foo[1], 'two mailboxes, two ids');
  assert.match((await c.command('5', 'create foo')).at(-1)!, /^5 NO /);
  assert.deepEqual(await c.command('6', 'status foo (mailboxid)'), [`* STATUS foo (MAILBOXID (${foo[1]}))`, '6 OK STATUS completed']);
  const sel = await c.command('27', 'select "foo"');
  assert.ok(sel.includes(`* OK [MAILBOXID (${foo[1]})] Ok`), sel.join('\n'));
  await c.command('u', 'UNSELECT');
  assert.match((await c.command('8', 'rename foo renamed')).at(-1)!, /^8 OK /);
  assert.equal((await c.command('9', 'status renamed (mailboxid)'))[0], `* STATUS renamed (MAILBOXID (${foo[1]}))`);
  assert.equal((await c.command('10', 'status bar (mailboxid)'))[0], `* STATUS bar (MAILBOXID (${bar[1]}))`);
  c.close();
});
