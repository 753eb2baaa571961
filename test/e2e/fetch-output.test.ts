/**
 * The session's output path (session.ts send/flush over src/protocol/sink.ts): FETCH responses gathered into output
 * chunks, with large literals handed to the transport as they are. Whatever the sizes, the client must receive each
 * message as stored, byte for byte (RFC 9051 §6.4.5 BODY[]: the whole message; §4.3 literal: exactly n octets),
 * each response whole and in order, then the tagged OK.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

/** Sizes around the output chunk (64 KiB) and the uncopied-literal threshold (16 KiB), and small ones between. */
const SIZES = [60, 16_383, 16_384, 16_385, 300, 70_000, 3_000, 65_536, 200_000, 50, 20_000, 131_072, 10];

/** A message of about `size` octets with 8-bit octets, a bare LF and a NUL-free body of varying lines. */
function message(i: number, size: number): Uint8Array {
  const head = `From: sender${i}@example.org\r\nSubject: size ${size}\r\nContent-Type: text/plain; charset=latin1\r\n\r\n`;
  const out = new Uint8Array(Math.max(size, head.length + 4));
  out.set(new TextEncoder().encode(head));
  for (let p = head.length; p < out.length; p++) out[p] = p % 77 === 76 ? 0x0a : 0x20 + ((p * 7 + i) % 0xdf); // 0x20..0xfe
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}

const stored = SIZES.map((n, i) => message(i, n));
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

let bed: TestBed;
before(async () => {
  bed = await startTestBed();
  stored.forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 60_000) }));
});
after(() => bed.close());

async function examined(): Promise<RawClient> {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  assert.match((await c.command('a1', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^a1 OK /);
  assert.match((await c.command('a2', 'EXAMINE INBOX')).at(-1)!, /^a2 OK /);
  return c;
}

test('BODY.PEEK[] of messages of every size around the chunk sizes: each literal byte for byte, in order', async () => {
  const c = await examined();
  const lines = await c.command('a3', 'FETCH 1:* (BODY.PEEK[])', 30_000);
  const got = lines.join('\r\n') + '\r\n';
  const expected = stored.map((raw, i) => `* ${i + 1} FETCH (BODY[] {${raw.length}}\r\n${latin1(raw)})\r\n`).join('');
  assert.equal(got.slice(0, expected.length), expected);
  assert.match(got.slice(expected.length), /^a3 OK [^\r\n]*\r\n$/);
  c.close();
});

test('small and large literals mixed in one response, repeated: every item in place', async () => {
  const c = await examined();
  const lines = await c.command('a3', 'FETCH 1:* (BODY.PEEK[HEADER] RFC822.SIZE BODY.PEEK[TEXT] BODY.PEEK[]<10.20>)', 30_000);
  const got = lines.join('\r\n') + '\r\n';
  const expected = stored.map((raw, i) => {
    const split = latin1(raw).indexOf('\r\n\r\n') + 4;
    const header = raw.subarray(0, split);
    const text = raw.subarray(split);
    return `* ${i + 1} FETCH (BODY[HEADER] {${header.length}}\r\n${latin1(header)} RFC822.SIZE ${raw.length} ` +
      `BODY[TEXT] {${text.length}}\r\n${latin1(text)} BODY[]<10> {20}\r\n${latin1(raw.subarray(10, 30))})\r\n`;
  }).join('');
  assert.equal(got.slice(0, expected.length), expected);
  assert.match(got.slice(expected.length), /^a3 OK [^\r\n]*\r\n$/);
  // The session still answers normally after the big command (its output chunk was handed over and dropped).
  assert.match((await c.command('a4', 'NOOP')).at(-1)!, /^a4 OK /);
  c.close();
});
