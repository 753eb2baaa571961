/**
 * The raw-message cache end to end (src/session/raw-cache.ts): a message read a second time (another device, a
 * client without an offline store, BODY[1] after BODY[2]) comes from the gateway's memory, byte for byte as the
 * store holds it (bare LF, 8-bit, NUL: RFC 9051 §6.4.5 BODY[] is the exact message), with no blob request to the
 * store; another account with the same blobId still asks the store; `rawCache` with a budget of 0 turns it off.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ALL, BARE_LF, EIGHT_BIT } from '../fixtures/messages.ts';
import { RawCache } from '../../src/session/raw-cache.ts';

const enc = new TextEncoder();
const NUL = enc.encode('From: nul@example.org\r\nSubject: nul\r\n\r\na\u0000b\r\n');
const MESSAGES = [...ALL, NUL];
const TWO_PARTS = enc.encode([
  'From: a@example.org', 'Subject: parts', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="xx"', '',
  '--xx', 'Content-Type: text/plain', '', 'first part', '--xx', 'Content-Type: text/plain', '', 'second part', '--xx--', '',
].join('\r\n'));
const BOB = 'bob@example.test';
const BOB_PASSWORD = 'bob password';

let bed: TestBed;
let off: TestBed;
let requests: string[] = [];
const counting = (inner: typeof fetch) => (async (input: RequestInfo | URL, init?: RequestInit) => {
  requests.push(`${String(input)} ${typeof init?.body === 'string' ? init.body : ''}`);
  return inner(input, init);
}) as typeof fetch;
const blobRequests = () => requests.filter((r) => r.includes('/download/') || r.includes('"Blob/get"')).length;

before(async () => {
  bed = await startTestBed({ wrapFetch: counting }); // the process-wide cache (the default)
  off = await startTestBed({ wrapFetch: counting, gateway: { rawCache: new RawCache(0) } });
  for (const b of [bed, off]) MESSAGES.forEach((raw, i) => b.store.importMessage(b.user, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000) }));
  bed.store.createUser(BOB, BOB_PASSWORD);
  bed.store.importMessage(BOB, 'inbox', NUL, { receivedAt: new Date(Date.UTC(2024, 0, 2)) });
});
after(async () => { await bed.close(); await off.close(); });

/** Each literal of `* n FETCH (... BODY[section] {len}`, by section, in order. */
function literals(lines: string[]): Array<[string, Uint8Array]> {
  const text = Buffer.from(lines.join('\r\n'), 'latin1');
  const s = text.toString('latin1');
  const out: Array<[string, Uint8Array]> = [];
  const re = /BODY\[([^\]]*)\] \{(\d+)\}\r\n/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    const at = m.index + m[0].length;
    out.push([m[1]!, new Uint8Array(text.subarray(at, at + Number(m[2])))]);
    re.lastIndex = at + Number(m[2]);
  }
  return out;
}

async function session(b: TestBed, user = b.user, password = b.password): Promise<RawClient> {
  const c = await RawClient.connect(b.imapPort);
  await c.line();
  assert.match((await c.command('l', `LOGIN "${user}" "${password}"`)).at(-1)!, /^l OK/);
  assert.match((await c.command('e', 'EXAMINE INBOX')).at(-1)!, /^e OK/);
  return c;
}

async function fetchAll(c: RawClient): Promise<Uint8Array[]> {
  const lines = await c.command('f', 'UID FETCH 1:* BODY.PEEK[]');
  assert.match(lines.at(-1)!, /^f OK/);
  return literals(lines).map(([, b]) => b);
}

test('a second device downloading the same messages gets them byte for byte with no blob request to the store', async () => {
  const phone = await session(bed);
  requests = [];
  const first = await fetchAll(phone);
  assert.deepEqual(first, MESSAGES, 'first download: the stored octets (bare LF, 8-bit, NUL)');
  assert.ok(blobRequests() > 0, 'the first download asks the store');
  phone.close();

  const laptop = await session(bed);
  requests = [];
  const second = await fetchAll(laptop);
  assert.deepEqual(second, first, 'byte for byte the same');
  assert.ok(MESSAGES.includes(BARE_LF) && MESSAGES.includes(EIGHT_BIT), 'the corpus holds bare LF and 8-bit messages');
  assert.equal(blobRequests(), 0, 'no download, no Blob/get');
  assert.ok(requests.length <= 1, `at most the metadata request: ${requests.length}`);
  laptop.close();
});

test('SEARCH BODY in a new session reads the messages it has downloaded before from the cache', async () => {
  const c = await session(bed);
  requests = [];
  const r = await c.command('s', 'UID SEARCH BODY "new place on Friday"');
  assert.deepEqual(r.slice(0, -1), ['* SEARCH 1'], 'RFC 9051 §6.4.4: only the first message has that text');
  assert.match(r.at(-1)!, /^s OK/);
  assert.equal(blobRequests(), 0, 'the raw messages came from the cache');
  c.close();
});

test('BODYSTRUCTURE, then BODY[1], then BODY[2] in separate commands (Apple Mail): one blob request in all', async () => {
  bed.store.importMessage(bed.user, 'inbox', TWO_PARTS, { receivedAt: new Date(Date.UTC(2024, 0, 3)) });
  const c = await session(bed);
  const uid = MESSAGES.length + 1;
  requests = [];
  assert.match((await c.command('s', `UID FETCH ${uid} BODYSTRUCTURE`)).at(-1)!, /^s OK/);
  const p1 = literals(await c.command('p1', `UID FETCH ${uid} BODY.PEEK[1]`));
  const p2 = literals(await c.command('p2', `UID FETCH ${uid} BODY.PEEK[2]`));
  const whole = literals(await c.command('w', `UID FETCH ${uid} BODY.PEEK[]`));
  assert.deepEqual(p1, [['1', enc.encode('first part')]]);
  assert.deepEqual(p2, [['2', enc.encode('second part')]]);
  assert.deepEqual(whole, [['', TWO_PARTS]]);
  assert.equal(blobRequests(), 1, 'the message was downloaded once');
  c.close();
});

test('another account with the same message (same blobId) does not get the first account\'s entry', async () => {
  const alice = await session(bed);
  await fetchAll(alice); // NUL is in alice's entries now
  alice.close();
  const bob = await session(bed, BOB, BOB_PASSWORD);
  requests = [];
  assert.deepEqual(await fetchAll(bob), [NUL]);
  assert.equal(blobRequests(), 1, "bob's message comes from the store");
  bob.close();
});

test('with a budget of 0 every download asks the store again, and the octets are the same', async () => {
  const c = await session(off);
  const first = await fetchAll(c);
  requests = [];
  const second = await fetchAll(c);
  assert.deepEqual(first, MESSAGES);
  assert.deepEqual(second, MESSAGES);
  assert.ok(blobRequests() > 0, 'no raw cache: the store is asked');
  c.close();
});
