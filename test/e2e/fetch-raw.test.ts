/**
 * FETCH at the byte level with a raw client: the exact command Thunderbird sends to list a folder, partial
 * fetches, implicit \Seen (RFC 9051 §6.4.5), and sequence-set errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ALL, SIMPLE } from '../fixtures/messages.ts';

let bed: TestBed;
before(async () => {
  bed = await startTestBed();
  const t0 = Date.UTC(2024, 0, 10, 9, 0, 0);
  ALL.forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(t0 + i * 60_000) }));
});
after(() => bed.close());

async function loggedIn(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  assert.match(await c.line(), /^\* OK \[CAPABILITY [^\]]*IMAP4rev1[^\]]*\] /);
  const r = await c.command('a1', `LOGIN "${bed.user}" "${bed.password}"`);
  assert.match(r.at(-1)!, /^a1 OK /);
  return c;
}

test("Thunderbird's folder listing command answers every message with UID, size, flags and the header subset", async () => {
  const c = await loggedIn();
  const sel = await c.command('a2', 'SELECT INBOX');
  assert.ok(sel.includes(`* ${ALL.length} EXISTS`));
  assert.match(sel.at(-1)!, /^a2 OK \[READ-WRITE\]/);
  c.write('a3 UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])\r\n');
  const first = await c.line();
  // RFC 9051 §7.5.2: the section spec is echoed, then a literal.
  assert.match(first, /^\* 1 FETCH \(UID 1 RFC822\.SIZE \d+ FLAGS \(\) BODY\[HEADER\.FIELDS \(From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To\)\] \{(\d+)\}$/);
  const rest = await c.until('a3');
  assert.match(rest.at(-1)!, /^a3 OK /);
  assert.equal(rest.filter((l) => /^\* \d+ FETCH /.test(l)).length, ALL.length - 1);
  c.close();
});

test('BODY[]<0.20> returns the first 20 octets with origin 0; RFC822.SIZE equals the stored length', async () => {
  const c = await loggedIn();
  await c.command('a2', 'EXAMINE INBOX');
  const r = await c.command('a3', 'FETCH 1 (RFC822.SIZE BODY.PEEK[]<0.20>)');
  assert.equal(r[0], `* 1 FETCH (RFC822.SIZE ${SIMPLE.length} BODY[]<0> {20}`);
  assert.equal(r[1], `${Buffer.from(SIMPLE.subarray(0, 20)).toString('latin1')})`);
  c.close();
});

test('a non-PEEK BODY[TEXT] sets \\Seen and the response carries FLAGS; EXAMINE never sets it', async () => {
  const c = await loggedIn();
  await c.command('e1', 'EXAMINE INBOX');
  const ro = await c.command('e2', 'FETCH 2 (BODY[TEXT])');
  assert.ok(!ro.some((l) => l.includes('\\Seen')), 'read-only: no \\Seen');
  await c.command('e3', 'SELECT INBOX');
  const rw = await c.command('e4', 'FETCH 2 (BODY[TEXT])');
  assert.ok(rw.some((l) => /FLAGS \(\\Seen\)/.test(l)), rw.join('\n'));
  const check = await c.command('e5', 'FETCH 2 FLAGS');
  assert.equal(check[0], '* 2 FETCH (FLAGS (\\Seen))');
  c.close();
});

test('a sequence number above EXISTS is BAD; an unknown UID is silently skipped', async () => {
  const c = await loggedIn();
  await c.command('a2', 'SELECT INBOX');
  const bad = await c.command('a3', 'FETCH 99 FLAGS');
  assert.match(bad.at(-1)!, /^a3 BAD /);
  const none = await c.command('a4', 'UID FETCH 99 FLAGS');
  assert.deepEqual(none.length, 1);
  assert.match(none[0]!, /^a4 OK /);
  c.close();
});
