// The output sink (src/protocol/sink.ts) and encodeResponseTo: a session's responses written straight into its
// output chunk must be the same octets as encodeResponse gives one by one (RFC 9051 §7.5.2 examples), whatever the
// chunk boundaries, and handed-out memory must never change afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeResponse, encodeResponseTo } from '../../src/protocol/encode.ts';
import { OutputSink } from '../../src/protocol/sink.ts';
import type { Response } from '../../src/protocol/types.ts';

const dec = new TextDecoder();
const enc = new TextEncoder();
const joined = (parts: Uint8Array[]): string => parts.map((p) => dec.decode(p)).join('');
const octets = (parts: Uint8Array[]): number[] => parts.flatMap((p) => [...p]);

const header = enc.encode('Subject: afternoon meeting\r\n\r\n');
const fetch = (seq: number): Response => ({
  type: 'FETCH', seq, items: [
    { type: 'UID', uid: 4827313 + seq },
    { type: 'RFC822.SIZE', size: 44827 },
    { type: 'FLAGS', flags: ['\\Seen', '$Forwarded'] },
    { type: 'BODY', section: { part: [], kind: 'HEADER.FIELDS', fields: ['SUBJECT'] }, data: header },
  ],
});
const line = (seq: number): string =>
  `* ${seq} FETCH (UID ${4827313 + seq} RFC822.SIZE 44827 FLAGS (\\Seen $Forwarded) BODY[HEADER.FIELDS (SUBJECT)] {30}\r\n` +
  'Subject: afternoon meeting\r\n\r\n)\r\n';

test('responses written into one sink are the octets of each response in turn (RFC 9051 §7.5.2)', () => {
  const sink = new OutputSink();
  for (let seq = 1; seq <= 3; seq++) encodeResponseTo(fetch(seq), sink);
  encodeResponseTo({ type: 'tagged', tag: 'A654', status: 'OK', text: 'FETCH completed' }, sink);
  assert.equal(dec.decode(sink.takeOne()), line(1) + line(2) + line(3) + 'A654 OK FETCH completed\r\n');
  assert.equal(sink.length, 0);
});

test('chunk boundaries anywhere: small chunks split the octets, never change them', () => {
  for (const chunk of [1, 7, 64, 100, 1000]) {
    const sink = new OutputSink({ chunk, initial: 1 });
    let expected = '';
    for (let seq = 1; seq <= 20; seq++) {
      encodeResponseTo(fetch(seq), sink);
      expected += line(seq);
    }
    assert.equal(sink.length, enc.encode(expected).length, `chunk ${chunk}`);
    const parts = sink.take();
    assert.ok(parts.length > 1, `chunk ${chunk}: several pieces`);
    assert.equal(joined(parts), expected, `chunk ${chunk}`);
  }
});

test('numbers are written as decimal digits (RFC 9051 §9 number, mod-sequence-value)', () => {
  for (const n of [0, 9, 10, 99, 100, 4294967295, 715194045007, Number.MAX_SAFE_INTEGER]) {
    const sink = new OutputSink();
    encodeResponseTo({ type: 'FETCH', seq: n || 1, items: [{ type: 'UID', uid: n }, { type: 'MODSEQ', modseq: n }] }, sink);
    assert.equal(dec.decode(sink.takeOne()), `* ${n || 1} FETCH (UID ${n} MODSEQ (${n}))\r\n`);
  }
});

test('non-ASCII text is UTF-8 (RFC 6855 §3), split or not', () => {
  const text = 'Grüße aus Köln, 日本語, 😀';
  const utf8 = [...enc.encode(text)];
  for (const chunk of [Infinity, 5]) {
    const sink = new OutputSink({ chunk, initial: 1 });
    sink.text('ab');
    sink.text(text);
    sink.text('x'.repeat(100) + text); // the long-string path
    assert.deepEqual(octets(sink.take()), [0x61, 0x62, ...utf8, ...Array(100).fill(0x78), ...utf8]);
  }
});

test('UTF8=ACCEPT: 8-bit strings quoted, else a literal of their UTF-8 octets; quotes and backslashes escaped', () => {
  const status: Response = { type: 'STATUS', mailbox: 'Entwürfe "neu"', attributes: [{ item: 'MESSAGES', value: 3 }] };
  const on = new OutputSink({ chunk: 4, initial: 1 });
  encodeResponseTo(status, on, { utf8: true });
  assert.equal(joined(on.take()), '* STATUS "Entwürfe \\"neu\\"" (MESSAGES 3)\r\n');
  const off = new OutputSink({ chunk: 4, initial: 1 });
  encodeResponseTo(status, off, { utf8: false });
  assert.equal(joined(off.take()), '* STATUS {15}\r\nEntwürfe "neu" (MESSAGES 3)\r\n');
});

test('literal8: BINARY data with NUL is ~{n} (RFC 3516 §4.3), without NUL a plain literal', () => {
  const sink = new OutputSink({ chunk: 8, initial: 1 });
  encodeResponseTo({ type: 'FETCH', seq: 1, items: [{ type: 'BINARY', part: [1], data: new Uint8Array([0x61, 0, 0x62]) }] }, sink);
  encodeResponseTo({ type: 'FETCH', seq: 2, items: [{ type: 'BINARY', part: [2], data: enc.encode('ab') }] }, sink);
  assert.equal(joined(sink.take()), '* 1 FETCH (BINARY[1] ~{3}\r\na\0b)\r\n* 2 FETCH (BINARY[2] {2}\r\nab)\r\n');
});

test('large literals are handed out as the caller\'s own array, not copied; small ones are copied', () => {
  const big = new Uint8Array(4096).fill(0x41);
  const small = enc.encode('tiny');
  const sink = new OutputSink({ chunk: 1024, largeLiteral: 1024 });
  encodeResponseTo({ type: 'FETCH', seq: 1, items: [{ type: 'BODY', section: { part: [] }, data: big }] }, sink);
  encodeResponseTo({ type: 'FETCH', seq: 2, items: [{ type: 'BODY', section: { part: [] }, data: small }] }, sink);
  const parts = sink.take();
  assert.ok(parts.includes(big), 'the literal itself is one of the pieces');
  assert.ok(!parts.includes(small));
  assert.equal(joined(parts), `* 1 FETCH (BODY[] {4096}\r\n${'A'.repeat(4096)})\r\n* 2 FETCH (BODY[] {4}\r\ntiny)\r\n`);
  // encodeResponse (no largeLiteral) copies: its result is one array with the data inside.
  const one = encodeResponse({ type: 'FETCH', seq: 1, items: [{ type: 'BODY', section: { part: [] }, data: big }] });
  assert.notEqual(one, big);
  assert.equal(dec.decode(one), `* 1 FETCH (BODY[] {4096}\r\n${'A'.repeat(4096)})\r\n`);
});

test('taken octets never change: later writes go to new memory', () => {
  const sink = new OutputSink({ chunk: 64, largeLiteral: 32 });
  encodeResponseTo(fetch(1), sink);
  const first = sink.take();
  const snapshot = octets(first);
  assert.equal(sink.length, 0);
  for (let seq = 2; seq <= 10; seq++) encodeResponseTo(fetch(seq), sink);
  assert.deepEqual(octets(first), snapshot);
  assert.equal(joined(first), line(1));
  assert.equal(joined(sink.take()), [2, 3, 4, 5, 6, 7, 8, 9, 10].map(line).join(''));
  assert.deepEqual(sink.take(), [], 'nothing written, nothing to take');
});

test('rewind drops a half-written response, also across pieces', () => {
  for (const opts of [{}, { chunk: 16, initial: 1, largeLiteral: 20 }]) {
    const sink = new OutputSink(opts);
    encodeResponseTo(fetch(1), sink);
    const before = sink.length;
    // INTERNALDATE of an invalid date fails after the earlier items were written.
    const bad: Response = { type: 'FETCH', seq: 2, items: [{ type: 'UID', uid: 7 }, { type: 'BODY', section: { part: [] }, data: new Uint8Array(40) }, { type: 'INTERNALDATE', date: 'not a date' }] };
    assert.throws(() => encodeResponseTo(bad, sink), RangeError);
    assert.ok(sink.length > before);
    sink.rewind(before);
    encodeResponseTo(fetch(3), sink);
    assert.equal(joined(sink.take()), line(1) + line(3));
  }
});
