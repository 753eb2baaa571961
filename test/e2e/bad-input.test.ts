/**
 * Bad input gets a clear answer and loses nothing (DESIGN.md rule 13, RFC 9051 §7.1, RFC 7888 §4):
 * BAD for syntax, NO [code] for refusals, BYE for limits that end the connection; other connections go on.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { withLimits } from '../../src/protocol/limits.ts';
import { SIMPLE } from '../fixtures/messages.ts';

const LIMITS = withLimits({ maxLineLength: 2048, maxLiteralSize: 4096, maxNonSyncLiteral: 4096, maxDiscardLiteral: 65536 });
const FAIL_DELAY = 300;
let bed: TestBed;

before(async () => {
  bed = await startTestBed({ limits: LIMITS, authFailureDelayMs: FAIL_DELAY });
  bed.store.importMessage(bed.user, 'inbox', SIMPLE);
});
after(() => bed.close());

async function connect(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  assert.match(await c.line(), /^\* OK /);
  return c;
}

async function loggedIn(): Promise<RawClient> {
  const c = await connect();
  const r = await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`);
  assert.match(r.at(-1)!, /^L OK /);
  return c;
}

/** A second session that must keep working while another one misbehaves. */
async function assertOthersWork(other: RawClient, tag: string): Promise<void> {
  const r = await other.command(tag, 'NOOP');
  assert.match(r.at(-1)!, new RegExp(`^${tag} OK `));
}

describe('syntax and limits', () => {
  test('garbage bytes get BAD and the connection goes on', async () => {
    const c = await connect();
    c.write(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x80, 0x0d, 0x0a]));
    assert.match(await c.line(), /^\* BAD /);
    c.write('a1 FROBNICATE\r\n');
    assert.match(await c.line(), /^a1 BAD /);
    const r = await c.command('a2', 'NOOP');
    assert.match(r.at(-1)!, /^a2 OK /);
    c.close();
  });

  test('a line over the limit ends the connection with BYE; other sessions are unaffected', async () => {
    const other = await loggedIn();
    const c = await connect();
    c.write('a1 NOOP ' + 'x'.repeat(LIMITS.maxLineLength + 10) + '\r\n');
    assert.match(await c.line(), /^\* BYE /);
    await c.waitClosed();
    await assertOthersWork(other, 'o1');
    other.close();
  });

  test('a synchronizing literal over the limit is refused before its bytes are sent (no "+")', async () => {
    const c = await connect();
    c.write(`a1 LOGIN {${LIMITS.maxLiteralSize + 1}}\r\n`);
    const line = await c.line();
    assert.match(line, /^a1 NO \[TOOBIG\] /);
    assert.ok(!line.startsWith('+'));
    const r = await c.command('a2', 'NOOP');
    assert.match(r.at(-1)!, /^a2 OK /, 'the connection is usable afterwards');
    c.close();
  });

  test('an accepted synchronizing literal gets "+" and works (LOGIN with literals)', async () => {
    const c = await connect();
    c.write(`a1 LOGIN {${Buffer.byteLength(bed.user)}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.write(`${bed.user} {${Buffer.byteLength(bed.password)}}\r\n`);
    assert.match(await c.line(), /^\+ /);
    c.write(`${bed.password}\r\n`);
    const r = await c.until('a1');
    assert.match(r.at(-1)!, /^a1 OK /);
    c.close();
  });

  test('a non-synchronizing literal over the limit is read, discarded and refused (RFC 7888 §4)', async () => {
    const c = await connect();
    const size = LIMITS.maxNonSyncLiteral + 100;
    c.write(`a1 LOGIN {${size}+}\r\n` + 'y'.repeat(size) + ' pw\r\n');
    assert.match(await c.line(), /^a1 (NO|BAD) /);
    const r = await c.command('a2', 'NOOP');
    assert.match(r.at(-1)!, /^a2 OK /, 'the literal bytes were not taken as commands');
    c.close();
  });

  test('a non-synchronizing literal beyond any reason gets BYE', async () => {
    const c = await connect();
    c.write(`a1 APPEND INBOX {${LIMITS.maxDiscardLiteral + 1}+}\r\n`);
    assert.match(await c.line(), /^\* BYE /);
    await c.waitClosed();
  });

  test('unknown commands before login: BYE after a few', async () => {
    const c = await connect();
    for (let i = 1; i <= LIMITS.maxUnknownBeforeAuth; i++) assert.match(await c.command(`u${i}`, 'GET / HTTP/1.1').then((r) => r.at(-1)!), new RegExp(`^u${i} BAD `));
    assert.match(await c.line(), /^\* BYE /);
    await c.waitClosed();
  });

  test('too many bad commands after login: BYE', async () => {
    const c = await loggedIn();
    for (let i = 1; i <= LIMITS.maxBadCommands; i++) await c.command(`b${i}`, 'FETCH');
    assert.match(await c.line(), /^\* BYE /);
    await c.waitClosed();
  });
});

describe('state and authentication', () => {
  test('a command in the wrong state is BAD', async () => {
    const c = await connect();
    assert.match((await c.command('a1', 'SELECT INBOX')).at(-1)!, /^a1 BAD /);
    await c.command('a2', `LOGIN "${bed.user}" "${bed.password}"`);
    assert.match((await c.command('a3', 'FETCH 1 FLAGS')).at(-1)!, /^a3 BAD /);
    assert.match((await c.command('a4', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^a4 BAD /);
    c.close();
  });

  test('a parsed command without a handler yet answers NO naming it', async () => {
    const c = await loggedIn();
    await c.command('a1', 'SELECT INBOX');
    const r = await c.command('a2', 'COMPRESS DEFLATE');
    assert.match(r.at(-1)!, /^a2 NO \[CANNOT\] COMPRESS /);
    c.close();
  });

  test('a wrong password: NO [AUTHENTICATIONFAILED], after a delay', async () => {
    const c = await connect();
    const t0 = Date.now();
    const r = await c.command('a1', `LOGIN "${bed.user}" "wrong"`);
    assert.match(r.at(-1)!, /^a1 NO \[AUTHENTICATIONFAILED\] /);
    assert.ok(Date.now() - t0 >= FAIL_DELAY, `answered after ${Date.now() - t0} ms`);
    assert.match((await c.command('a2', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^a2 OK /);
    c.close();
  });

  test('AUTHENTICATE PLAIN with SASL-IR, with a continuation, cancelled, and with bad base64', async () => {
    const plain = Buffer.from(`\0${bed.user}\0${bed.password}`).toString('base64');
    const a = await connect();
    assert.match((await a.command('a1', `AUTHENTICATE PLAIN ${plain}`)).at(-1)!, /^a1 OK /);
    a.close();
    const b = await connect();
    b.write('b1 AUTHENTICATE PLAIN\r\n');
    assert.equal(await b.line(), '+ ');
    b.write(plain + '\r\n');
    assert.match((await b.until('b1')).at(-1)!, /^b1 OK /);
    b.close();
    const c = await connect();
    c.write('c1 AUTHENTICATE PLAIN\r\n');
    await c.line();
    c.write('*\r\n');
    assert.match((await c.until('c1')).at(-1)!, /^c1 BAD /);
    assert.match((await c.command('c2', 'AUTHENTICATE PLAIN %%%')).at(-1)!, /^c2 BAD /);
    c.close();
  });
});

describe('backend failures', () => {
  test('a backend that is down: NO [UNAVAILABLE], the session survives', async () => {
    const own = await startTestBed({ authFailureDelayMs: 10 });
    try {
      own.store.importMessage(own.user, 'inbox', SIMPLE);
      const c = await RawClient.connect(own.imapPort);
      await c.line();
      await c.command('a1', `LOGIN "${own.user}" "${own.password}"`);
      await c.command('a2', 'SELECT INBOX');
      await own.stopBackend();
      assert.match((await c.command('a3', 'FETCH 1 BODY.PEEK[]', 15_000)).at(-1)!, /^a3 NO \[UNAVAILABLE\] /);
      assert.match((await c.command('a4', 'NOOP', 15_000)).at(-1)!, /^a4 NO \[UNAVAILABLE\] /);
      assert.match((await c.command('a5', 'CAPABILITY')).at(-1)!, /^a5 OK /, 'the session is alive');
      const d = await RawClient.connect(own.imapPort);
      await d.line();
      assert.match((await d.command('b1', `LOGIN "${own.user}" "${own.password}"`, 15_000)).at(-1)!, /^b1 NO \[UNAVAILABLE\] /);
      c.close();
      d.close();
    } finally {
      await own.close();
    }
  });
});

describe('TLS policy', () => {
  test('STARTTLS: plaintext pipelined after it is discarded, never executed (RFC 9051 §6.2.1)', async () => {
    const c = await connect();
    c.write(`a1 STARTTLS\r\na2 LOGIN "${bed.user}" "${bed.password}"\r\n`);
    assert.match(await c.line(), /^a1 OK /);
    await c.startTls();
    const r = await c.command('a3', 'SELECT INBOX');
    assert.ok(!r.some((l) => l.startsWith('a2 ')), 'a2 never ran');
    assert.match(r.at(-1)!, /^a3 BAD /, 'still not authenticated');
    c.close();
  });

  test('a listener that does not trust loopback: LOGINDISABLED until STARTTLS, then AUTH=PLAIN', async () => {
    const own = await startTestBed({ gateway: { loopbackIsSecure: false } });
    try {
      const c = await RawClient.connect(own.imapPort);
      const greeting = await c.line();
      assert.match(greeting, /LOGINDISABLED/);
      assert.doesNotMatch(greeting, /AUTH=PLAIN/);
      assert.match((await c.command('a1', `LOGIN "${own.user}" "${own.password}"`)).at(-1)!, /^a1 NO \[PRIVACYVIOLATION\] /);
      await c.command('a2', 'STARTTLS');
      await c.startTls();
      const caps = await c.command('a3', 'CAPABILITY');
      assert.match(caps[0]!, /AUTH=PLAIN/);
      assert.doesNotMatch(caps[0]!, /LOGINDISABLED|STARTTLS/);
      assert.match((await c.command('a4', `LOGIN "${own.user}" "${own.password}"`)).at(-1)!, /^a4 OK /);
      c.close();
    } finally {
      await own.close();
    }
  });
});
