/**
 * Raw messages in batches (RFC 9404 §4.2 `Blob/get`): the embedded store serves it, the gateway uses it for
 * `FETCH 1:* BODY.PEEK[]` (one API request per batch instead of one download per message), and the octets reach
 * the client unchanged: bare LF, 8-bit headers, NUL. Plus the strict base64 decoder's RFC 4648 §10 vectors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { accountIdOf, jmap, startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ALL } from '../fixtures/messages.ts';
import { decodeBase64 } from '../../src/encoding/base64.ts';

const NUL = new TextEncoder().encode('From: nul@example.org\r\nSubject: nul\r\n\r\na\u0000b\r\n');
const MESSAGES = [...ALL, NUL];
let bed: TestBed;
let requests: string[] = [];
let accountId = '';

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      requests.push(typeof init?.body === 'string' ? init.body : String(input));
      return inner(input, init);
    }) as typeof fetch,
  });
  MESSAGES.forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000) }));
  accountId = await accountIdOf(bed);
});
after(() => bed.close());

/** The literal of each `* n FETCH (UID u BODY[] {len}` response, as octets. */
function literals(text: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  const s = text.toString('latin1');
  const re = /\* \d+ FETCH \(UID \d+ BODY\[\] \{(\d+)\}\r\n/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    out.push(new Uint8Array(text.subarray(m.index + m[0].length, m.index + m[0].length + Number(m[1]))));
    re.lastIndex = m.index + m[0].length + Number(m[1]);
  }
  return out;
}

test('UID FETCH 1:* BODY.PEEK[] comes through Blob/get in one request, byte for byte', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('b', 'EXAMINE INBOX');
  requests = [];
  const lines = await c.command('f', 'UID FETCH 1:* BODY.PEEK[]');
  assert.match(lines.at(-1)!, /^f OK/);
  const got = literals(Buffer.from(lines.join('\r\n'), 'latin1'));
  assert.equal(got.length, MESSAGES.length);
  got.forEach((bytes, i) => assert.deepEqual(bytes, MESSAGES[i], `message ${i + 1} byte for byte`));
  assert.equal(requests.filter((r) => r.includes('/download/')).length, 0, 'no per-message download');
  assert.equal(requests.filter((r) => r.includes('"Blob/get"')).length, 1, 'one Blob/get request');
  c.close();
});

test('the store: Blob/get ranges, notFound, text vs base64, and the capability it needs', async () => {
  const [, emails] = (await jmap(bed, [['Email/query', { accountId }, 'q'], ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['blobId', 'size'] }, 'g']]))[1]!;
  const blobs = (emails.list as Array<{ blobId: string; size: number }>);
  const res = await fetch(`${bed.jmapUrl}/jmap/api`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + btoa(`${bed.user}:${bed.password}`) },
    body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:blob'], methodCalls: [
      ['Blob/get', { accountId, ids: [blobs[0]!.blobId, 'nosuchblob'], properties: ['data:asBase64', 'size'] }, 'a'],
      ['Blob/get', { accountId, ids: [blobs[0]!.blobId], properties: ['data:asText'], offset: 0, length: 4 }, 'b'],
      ['Blob/get', { accountId, ids: [blobs[0]!.blobId], properties: ['data:asText'], offset: 2, length: 1_000_000 }, 'c'],
      ['Email/get', { accountId, ids: [] }, 'd'],
    ] }),
  });
  const { methodResponses: r } = (await res.json()) as { methodResponses: Array<[string, Record<string, unknown>, string]> };
  const a = r[0]![1] as { list: Array<Record<string, unknown>>; notFound: string[] };
  assert.deepEqual(a.notFound, ['nosuchblob']);
  assert.equal(a.list[0]!.size, blobs[0]!.size);
  assert.ok(MESSAGES.some((m) => Buffer.from(m).toString('base64') === a.list[0]!['data:asBase64']), 'the blob octets, base64');
  const first4 = Buffer.from(decodeBase64(String(a.list[0]!['data:asBase64']))!.subarray(0, 4)).toString('latin1');
  assert.equal((r[1]![1].list as Array<Record<string, unknown>>)[0]!['data:asText'], first4, 'RFC 9404 §4.2 offset/length');
  assert.equal((r[2]![1].list as Array<Record<string, unknown>>)[0]!.isTruncated, true, 'a range past the end is truncated');
  assert.equal(r[3]![0], 'error', 'mail methods need urn:ietf:params:jmap:mail in using (RFC 8620 §3.3)');
});

test('RFC 4648 §10 base64 vectors decode; malformed input is refused', () => {
  const vectors: Array<[string, string]> = [['', ''], ['Zg==', 'f'], ['Zm8=', 'fo'], ['Zm9v', 'foo'], ['Zm9vYg==', 'foob'], ['Zm9vYmE=', 'fooba'], ['Zm9vYmFy', 'foobar']];
  for (const [b64, text] of vectors) assert.equal(new TextDecoder().decode(decodeBase64(b64)!), text, b64);
  assert.deepEqual(decodeBase64('AP8A'), new Uint8Array([0, 255, 0]));
  for (const bad of ['Zg=', 'Zm9', 'Z===', 'Zm=v', 'Zm9v\n', 'Zm9v Zm9v', 'Zm9vYm\u00e9y']) assert.equal(decodeBase64(bad), null, JSON.stringify(bad));
});

test('a FETCH of two different header lists, and of .NOT, on the same messages: each answers its own subset', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('b', 'EXAMINE INBOX');
  const subject = await c.command('s', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (Subject)]');
  const from = await c.command('f', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (FROM)]');
  const notSubject = await c.command('n', 'FETCH 1 BODY.PEEK[HEADER.FIELDS.NOT (SUBJECT)]');
  const subjectAgain = await c.command('t', 'FETCH 1 BODY.PEEK[HEADER.FIELDS (subject)]');
  assert.match(subject[1]!, /^Subject: /);
  assert.match(from[1]!, /^From: /);
  assert.ok(!notSubject.some((l) => /^Subject:/i.test(l)) && notSubject.some((l) => /^From: /.test(l)), notSubject.join('\n'));
  assert.deepEqual(subjectAgain.slice(1, -1), subject.slice(1, -1), 'field names match ASCII case-insensitively (RFC 9051 §6.4.5)');
  c.close();
});
