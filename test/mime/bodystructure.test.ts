/**
 * BODYSTRUCTURE / BODY (RFC 9051 §7.5.2, §9 body grammar) and CTE decoding (RFC 2045 §6.7, §6.8): golden answers
 * of Dovecot 2.3.19 for the same messages (test/fixtures/dovecot-golden.ts), compared by meaning, plus known
 * answers written from the RFC grammar.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bodyStructure } from '../../src/backend/mime/bodystructure.ts';
import { decodeTransfer, toCrlf } from '../../src/backend/mime/decode.ts';
import { parseStructure } from '../../src/backend/mime/structure.ts';
import { encodeResponse } from '../../src/protocol/encode.ts';
import type { Value } from '../../src/protocol/types.ts';
import * as M from '../fixtures/messages.ts';
import * as F from '../fixtures/fetch-messages.ts';
import { DOVECOT, EXTRA } from '../fixtures/dovecot-golden.ts';
import { fetchItems, readValues } from './imap-value.ts';

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const RAW: Record<string, Uint8Array> = {
  ...(M as unknown as Record<string, Uint8Array>),
  ...(F as unknown as Record<string, Uint8Array>),
  ...Object.fromEntries(Object.entries(EXTRA).map(([k, v]) => [k, latin1(v)])),
};

function ours(raw: Uint8Array, extended: boolean): Value {
  return bodyStructure(raw, parseStructure(raw), extended);
}

/** Our value, through the real encoder, read back as a tree. */
function encoded(raw: Uint8Array, extended: boolean) {
  const bytes = encodeResponse({ type: 'FETCH', seq: 1, items: [{ type: 'BODYSTRUCTURE', extended, structure: ours(raw, extended) }] });
  return fetchItems(bytes).get(extended ? 'BODYSTRUCTURE' : 'BODY');
}

for (const g of DOVECOT) {
  test(`BODYSTRUCTURE and BODY of ${g.name} equal Dovecot 2.3.19's`, () => {
    const raw = RAW[g.name]!;
    assert.ok(raw, g.name);
    assert.deepEqual(encoded(raw, true), readValues(g.bodystructure)[1]);
    assert.deepEqual(encoded(raw, false), readValues(g.body)[1]);
  });
}

test('Byte-exact against Dovecot 2.3.19: multipart bodies and address lists follow each other without a space (RFC 9051 §9 1*body, 1*address)', () => {
  const line = (raw: Uint8Array, extended: boolean) => new TextDecoder('latin1').decode(
    encodeResponse({ type: 'FETCH', seq: 1, items: [{ type: 'BODYSTRUCTURE', extended, structure: ours(raw, extended) }] }));
  let multipart = 0;
  for (const g of DOVECOT) {
    if (!/^BODYSTRUCTURE \(\(/.test(g.bodystructure)) continue;
    multipart++;
    const raw = RAW[g.name]!;
    assert.equal(line(raw, true), `* 1 FETCH (${g.bodystructure})\r\n`, g.name);
    assert.equal(line(raw, false), `* 1 FETCH (${g.body})\r\n`, g.name);
  }
  assert.ok(multipart >= 2, 'the golden set has multipart messages');
});

test('RFC 9051 §9 body-type-text: type, subtype, params, id, desc, enc, octets, lines; extension md5 dsp lang loc', () => {
  const raw = new TextEncoder().encode('Content-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\nabc\r\ndef\r\n');
  assert.deepEqual(ours(raw, false), ['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7bit', 10, 2]);
  assert.deepEqual(ours(raw, true), ['TEXT', 'PLAIN', ['CHARSET', 'US-ASCII'], null, null, '7bit', 10, 2, null, null, null, null]);
});

test('RFC 9051 §9 body-type-msg: a message/rfc822 part carries envelope, body and lines', () => {
  const v = ours(F.NESTED, false) as Value[];
  const kids = (v[0] as { juxtaposed: Value[] }).juxtaposed; // RFC 9051 §9 `1*body`
  const msg = kids[2] as Value[];
  assert.deepEqual(msg.slice(0, 2), ['message', 'rfc822']);
  assert.equal((msg[7] as Value[])[1], 'inner'); // envelope subject
  assert.deepEqual((msg[8] as Value[]).at(-1), 'alternative'); // body: a multipart
  assert.equal(typeof msg[9], 'number'); // body-fld-lines
});

test('RFC 2231 parameters keep their encoding under name* (continuations joined)', () => {
  const raw = new TextEncoder().encode("Content-Type: application/x-y; title*0*=us-ascii'en'This%20is; title*1*=%20long; a=b\r\n\r\nx");
  const v = ours(raw, true) as Value[];
  assert.deepEqual(v[2], ['a', 'b', 'title*', "us-ascii'en'This%20is%20long"]);
});

test('decodeTransfer: base64, quoted-printable (soft breaks, =XX, trailing space), identity, unknown', () => {
  const e = new TextEncoder();
  assert.deepEqual([...decodeTransfer(e.encode('AAECAwBh\r\nYg=='), 'base64')!], [0, 1, 2, 3, 0, 0x61, 0x62]);
  assert.deepEqual(new TextDecoder('latin1').decode(decodeTransfer(e.encode('Caf=E9 =3D soft=\r\nbreak  \r\nx=\r\n'), 'quoted-printable')!), 'Caf\u00e9 = softbreak\r\nx');
  assert.deepEqual(decodeTransfer(e.encode('a=ZZb'), 'quoted-printable'), e.encode('a=ZZb'));
  assert.deepEqual(decodeTransfer(e.encode('x\ny'), '8bit'), e.encode('x\ny'));
  assert.equal(decodeTransfer(e.encode('x'), 'x-uuencode'), null);
  assert.deepEqual(toCrlf(e.encode('a\nb\r\nc\n')), e.encode('a\r\nb\r\nc\r\n'));
});
