/**
 * ENVELOPE (RFC 9051 §7.5.2): golden answers of Dovecot 2.3.19 for the same messages, compared by meaning (the
 * same octets whether sent quoted or as a literal), plus known answers from the RFC text.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { envelopeOf, parseAddressList } from '../../src/backend/mime/envelope.ts';
import { parseHeaderBlock } from '../../src/backend/mime/header.ts';
import { encodeResponse } from '../../src/protocol/encode.ts';
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

function envelope(raw: Uint8Array) {
  return envelopeOf(raw, parseHeaderBlock(raw, 0, raw.length).fields);
}

for (const g of DOVECOT) {
  test(`ENVELOPE of ${g.name} equals Dovecot 2.3.19's`, () => {
    const bytes = encodeResponse({ type: 'FETCH', seq: 1, items: [{ type: 'ENVELOPE', envelope: envelope(RAW[g.name]!) }] });
    assert.deepEqual(fetchItems(bytes).get('ENVELOPE'), readValues(g.envelope)[1]);
  });
}

test('RFC 9051 §7.5.2: Sender and Reply-To default to From; absent fields are NIL', () => {
  const e = envelope(new TextEncoder().encode('From: a@b.example\r\nReply-To:\r\n\r\n'));
  const from = [{ name: null, adl: null, mailbox: 'a', host: 'b.example' }];
  assert.deepEqual(e, { date: null, subject: null, from, sender: from, replyTo: from, to: null, cc: null, bcc: null, inReplyTo: null, messageId: null });
});

test('RFC 9051 §9 group syntax: (NIL NIL "group" NIL) members (NIL NIL NIL NIL)', () => {
  assert.deepEqual(parseAddressList('g: x@y.example;'), [
    { name: null, adl: null, mailbox: 'g', host: null },
    { name: null, adl: null, mailbox: 'x', host: 'y.example' },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
});

test('8-bit header octets are kept as octets (a literal), never replaced', () => {
  const e = envelope(M.EIGHT_BIT);
  assert.deepEqual(e.from![0]!.name, new Uint8Array([0x52, 0x65, 0x6e, 0xe9]));
  const bytes = encodeResponse({ type: 'FETCH', seq: 1, items: [{ type: 'ENVELOPE', envelope: e }] });
  assert.ok(Buffer.from(bytes).includes(Buffer.from([0x7b, 0x34, 0x7d, 0x0d, 0x0a, 0x52, 0x65, 0x6e, 0xe9]))); // {4}CRLF Ren\xe9
});

test('encoded words are not decoded; folding becomes one space', () => {
  const e = envelope(new TextEncoder().encode('Subject: =?UTF-8?Q?a?=\r\n\tb\r\n\r\n'));
  assert.equal(e.subject, '=?UTF-8?Q?a?= b');
});

test('hostile address lists never throw or hang, and every address has 4 fields', () => {
  const alphabet = ['a', 'b', '@', '<', '>', ',', ';', ':', '.', '"', '\\', '(', ')', '[', ']', ' ', '\r\n ', '\xe9'];
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let k = 0; k < 3000; k++) {
    const s = Array.from({ length: Math.floor(rnd() * 30) }, () => alphabet[Math.floor(rnd() * alphabet.length)]).join('');
    for (const a of parseAddressList(s)) assert.deepEqual(Object.keys(a), ['name', 'adl', 'mailbox', 'host'], s);
  }
});
