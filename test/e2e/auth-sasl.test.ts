/**
 * AUTHENTICATE LOGIN (draft-murchison-sasl-login) byte by byte, with and without SASL-IR, `*` cancel and bad
 * base64 (RFC 9051 §6.2.2); and failed-auth throttling ending in BYE for a blocked address.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { AuthThrottle } from '../../src/auth/throttle.ts';

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
let bed: TestBed;
before(async () => {
  bed = await startTestBed({
    gateway: { throttle: new AuthThrottle({ baseDelayMs: 10, maxDelayMs: 40, ipBlockAfter: 4, ipBlockMs: 60_000, windowMs: 60_000, maxEntries: 100 }) },
  });
});
after(() => bed.close());

async function connect(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  return c;
}

test('AUTHENTICATE LOGIN: "Username:" and "Password:" challenges, then OK with capabilities', async () => {
  const c = await connect();
  c.write('a AUTHENTICATE LOGIN\r\n');
  assert.equal(await c.line(), '+ VXNlcm5hbWU6');
  c.write(`${b64(bed.user)}\r\n`);
  assert.equal(await c.line(), '+ UGFzc3dvcmQ6');
  c.write(`${b64(bed.password)}\r\n`);
  assert.match(await c.line(), /^a OK \[CAPABILITY IMAP4rev1 /);
  assert.match((await c.command('b', 'SELECT INBOX')).at(-1)!, /^b OK /);
  c.close();
});

test('AUTHENTICATE LOGIN with SASL-IR: the initial response is the user name', async () => {
  const c = await connect();
  c.write(`a AUTHENTICATE LOGIN ${b64(bed.user)}\r\n`);
  assert.equal(await c.line(), '+ UGFzc3dvcmQ6');
  c.write(`${b64(bed.password)}\r\n`);
  assert.match(await c.line(), /^a OK /);
  c.close();
});

test('AUTHENTICATE LOGIN cancelled with *, and with bad base64, is BAD; a wrong password is NO [AUTHENTICATIONFAILED]', async () => {
  const c = await connect();
  c.write('a AUTHENTICATE LOGIN\r\n');
  await c.line();
  c.write('*\r\n');
  assert.match(await c.line(), /^a BAD /);
  c.write(`b AUTHENTICATE LOGIN ${b64(bed.user)}\r\n`);
  await c.line();
  c.write('not base64!\r\n');
  assert.match(await c.line(), /^b BAD /);
  c.write('c AUTHENTICATE LOGIN @@@\r\n');
  assert.match(await c.line(), /^c BAD /);
  c.write(`d AUTHENTICATE LOGIN ${b64(bed.user)}\r\n`);
  await c.line();
  c.write(`${b64('wrong')}\r\n`);
  assert.match(await c.line(), /^d NO \[AUTHENTICATIONFAILED\]/);
  c.close();
});

test('brute force from one address: failures are delayed, then the address is blocked with BYE', async () => {
  const c = await connect();
  // One failure already happened in the previous test (d); three more reach the block threshold of 4.
  for (const tag of ['x1', 'x2', 'x3']) {
    assert.match((await c.command(tag, `LOGIN "${bed.user}" "guess-${tag}"`)).at(-1)!, new RegExp(`^${tag} NO \\[AUTHENTICATIONFAILED\\]`));
  }
  c.write(`x4 LOGIN "${bed.user}" "${bed.password}"\r\n`);
  assert.match(await c.line(), /^\* BYE /, 'even the right password is refused from a blocked address');
  await c.waitClosed();
  const d = await connect();
  d.write(`y AUTHENTICATE PLAIN ${b64(`\0${bed.user}\0${bed.password}`)}\r\n`);
  assert.match(await d.line(), /^\* BYE /);
  d.close();
});
