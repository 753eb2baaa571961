/**
 * Raw messages by RFC 9404 §4.2 `Blob/get` of `data`: a store answers `data:asText` for a blob that is valid UTF-8
 * and `data:asBase64` otherwise. Whichever form travels, `FETCH BODY[]` must give the stored octets exactly
 * (RFC 9051 §6.4.5): multi-byte UTF-8, characters JSON escapes (quote, backslash, controls, U+2028), NUL, bare LF and
 * a lone CR, a leading byte order mark (a text decoder may drop it), 8-bit Latin-1 and malformed UTF-8 (overlong,
 * a lone surrogate's CESU-8 form, a truncated sequence).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const head = (n: number): number[] => [...Buffer.from(`From: t${n}@example.org\r\nSubject: text ${n}\r\n\r\n`, 'latin1')];
const MESSAGES: Uint8Array[] = [
  [...head(1), ...Buffer.from('Gr\u00fc\u00dfe, \u65e5\u672c, \u{1F600} \u2028 "q" \\ \t\u0001\r\n', 'utf8')],
  [...head(2), ...Buffer.from('nul \u0000 here\nbare LF\nlone CR\r here\r\n', 'utf8')],
  [0xef, 0xbb, 0xbf, ...head(3), ...Buffer.from('after a BOM\r\n', 'utf8')],
  [...head(4), ...Buffer.from('caf\u00e9 in Latin-1\r\n', 'latin1')],
  [...head(5), 0xc0, 0xaf, 0x0d, 0x0a], // overlong '/'
  [...head(6), 0xed, 0xa0, 0x80, 0x0d, 0x0a], // U+D800 as CESU-8
  [...head(7), 0x61, 0xe2, 0x82], // truncated at the end
].map((b) => new Uint8Array(b));

let bed: TestBed;
let requests: string[] = [];

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push(typeof init?.body === 'string' ? init.body : String(input));
      return inner(input, init);
    }) as typeof fetch,
  });
  MESSAGES.forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000) }));
});
after(() => bed.close());

test('BODY[] through Blob/get is the stored octets, text or not', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('b', 'EXAMINE INBOX');
  requests = [];
  const lines = await c.command('f', 'UID FETCH 1:* BODY.PEEK[]');
  assert.match(lines.at(-1)!, /^f OK/);
  const text = Buffer.from(lines.join('\r\n'), 'latin1');
  const re = /\* (\d+) FETCH \(UID \d+ BODY\[\] \{(\d+)\}\r\n/g;
  const s = text.toString('latin1');
  let n = 0;
  for (let m = re.exec(s); m; m = re.exec(s), n++) {
    const start = m.index + m[0].length;
    assert.deepEqual(new Uint8Array(text.subarray(start, start + Number(m[2]))), MESSAGES[Number(m[1]) - 1], `message ${m[1]} byte for byte`);
    re.lastIndex = start + Number(m[2]);
  }
  assert.equal(n, MESSAGES.length);
  assert.equal(requests.filter((r) => r.includes('"Blob/get"')).length, 1, 'one Blob/get request');
  c.close();
});
