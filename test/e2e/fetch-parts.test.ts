/**
 * A full download (`UID FETCH 1:* BODY.PEEK[]`) of a mailbox bigger than one FETCH batch and one `Blob/get` part
 * (src/session/commands/fetch.ts PART_BYTES): every message reaches the client byte for byte and in order (bare LF,
 * 8-bit, messages above the `Blob/get` size limit), the requests grow with the octets and not with the message
 * count (DESIGN.md rule 8), and the raw messages the gateway holds stay bounded (rule 12): no `Blob/get` carries
 * more than PART_BYTES of messages and at most two are outstanding at once.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { PART_BYTES } from '../../src/session/commands/fetch.ts';
import { GET_MAX_EACH } from '../../src/session/raw-messages.ts';

const COUNT = 1100; // more than one batch of 1,000 messages
/** Messages downloaded alone (RFC 8620 §6.2): above GET_MAX_EACH, one of them above PART_BYTES too. */
const BIG: ReadonlyMap<number, number> = new Map([[500, GET_MAX_EACH + 500_000], [1050, PART_BYTES + 1_000_000]]);

/** Message i (0-based): sizes 0.2-20 KB, every 7th with bare LF line ends, every 11th with an 8-bit Subject. */
function message(i: number): Uint8Array {
  const nl = i % 7 === 0 ? '\n' : '\r\n';
  const subject = i % 11 === 0 ? `caf\u00e9 ${i}` : `part ${i}`;
  let text = [`From: sender${i}@example.org`, 'To: alice@example.test', `Subject: ${subject}`, `Message-ID: <m${i}@example.org>`, '', ''].join(nl);
  const size = BIG.get(i) ?? 200 + ((i * 7919) % 20_000);
  for (let j = 0; text.length < size; j++) text += `line ${i}.${j} ${'x'.repeat(60)}${nl}`;
  return new Uint8Array(Buffer.from(text, 'latin1'));
}

const MESSAGES = Array.from({ length: COUNT }, (_, i) => message(i));
let bed: TestBed;
/** The FETCH's JMAP requests: body (or URL), whether each is still outstanding, the octets of blobs it returned. */
let log: Array<{ body: string; done: boolean; octets: number }> = [];
let maxBlobGetsInFlight = 0;

before(async () => {
  bed = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      const entry = { body: typeof init?.body === 'string' ? init.body : String(input), done: false, octets: 0 };
      log.push(entry);
      const inFlight = log.filter((e) => !e.done && e.body.includes('"Blob/get"')).length;
      maxBlobGetsInFlight = Math.max(maxBlobGetsInFlight, inFlight);
      try {
        const res = await inner(input, init);
        const body = await res.arrayBuffer(); // outstanding until the whole answer is in
        if (entry.body.includes('"Blob/get"')) entry.octets = blobOctets(body);
        return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
      } finally {
        entry.done = true;
      }
    }) as typeof fetch,
  });
  MESSAGES.forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000) }));
});
after(() => bed.close());

/** RFC 9404 §4.2: the `size` of every blob a Blob/get response returned, summed. */
function blobOctets(body: ArrayBuffer): number {
  const { methodResponses } = JSON.parse(new TextDecoder().decode(body)) as { methodResponses: Array<[string, { list?: Array<{ size?: number }> }, string]> };
  return methodResponses.filter(([name]) => name === 'Blob/get').flatMap(([, a]) => a.list ?? []).reduce((n, b) => n + (b.size ?? 0), 0);
}

/** The literals of `* n FETCH (UID u BODY[] {len}` responses with their sequence numbers, in the order sent. */
function literals(text: Buffer): Array<{ seq: number; bytes: Buffer }> {
  const out: Array<{ seq: number; bytes: Buffer }> = [];
  const s = text.toString('latin1');
  const re = /\* (\d+) FETCH \(UID \d+ BODY\[\] \{(\d+)\}\r\n/g;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    out.push({ seq: Number(m[1]), bytes: text.subarray(m.index + m[0].length, m.index + m[0].length + Number(m[2])) });
    re.lastIndex = m.index + m[0].length + Number(m[2]);
  }
  return out;
}

test('UID FETCH 1:* BODY.PEEK[] of 1,100 messages: byte for byte, in order, in requests bounded by octets', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await c.command('b', 'EXAMINE INBOX', 20_000);
  log = [];
  maxBlobGetsInFlight = 0;
  const lines = await c.command('f', 'UID FETCH 1:* BODY.PEEK[]', 60_000);
  assert.match(lines.at(-1)!, /^f OK/);
  const got = literals(Buffer.from(lines.join('\r\n'), 'latin1'));
  assert.equal(got.length, COUNT);
  got.forEach((r, i) => {
    assert.equal(r.seq, i + 1, 'FETCH responses in message order');
    assert.ok(r.bytes.equals(MESSAGES[i]!), `message ${i + 1} byte for byte`);
  });

  // RFC 9404 Blob/get for the messages up to GET_MAX_EACH; the bigger ones alone (RFC 8620 §6.2).
  const blobGets = log.filter((e) => e.body.includes('"Blob/get"'));
  assert.equal(log.filter((e) => e.body.includes('/download/')).length, BIG.size, 'only the big messages are downloaded one by one');
  for (const e of blobGets) assert.ok(e.octets > 0 && e.octets <= PART_BYTES, `a Blob/get request carries ${e.octets} octets of messages, at most PART_BYTES`);
  assert.ok(maxBlobGetsInFlight <= 2, `at most two Blob/get outstanding (the next part, the next batch's first): ${maxBlobGetsInFlight}`);
  // Parts are filled up to PART_BYTES (a part closes when the next message would not fit: over half full on
  // average), starting at PART_BYTES / 16 and doubling (4 more), per batch of 1,000 messages (2 here).
  const small = MESSAGES.filter((m) => m.length <= GET_MAX_EACH).reduce((n, m) => n + m.length, 0);
  const bound = Math.ceil((2 * small) / PART_BYTES) + 4 + 2 + BIG.size;
  assert.ok(blobGets.length <= bound, `${blobGets.length} Blob/get requests for ${small} octets, at most ${bound} (not one per 50 messages: ${COUNT / 50})`);
  c.close();
});

test('a store without Blob/get (as Cyrus 3.6): the same download, one RFC 8620 §6.2 download per message', async () => {
  const some = MESSAGES.slice(0, 300); // ~3 MB: several parts
  let downloads = 0;
  const plain = await startTestBed({
    wrapFetch: (inner) => (async (input: RequestInfo | URL, init?: RequestInit) => {
      const res = await inner(input, init);
      if (String(input).includes('/download/')) downloads++;
      if (!String(input).includes('/.well-known/jmap')) return res;
      // The session without urn:ietf:params:jmap:blob (RFC 9404 §3), for the server and for every account.
      const session = (await res.json()) as { capabilities: Record<string, unknown>; accounts: Record<string, { accountCapabilities: Record<string, unknown> }> };
      delete session.capabilities['urn:ietf:params:jmap:blob'];
      for (const a of Object.values(session.accounts)) delete a.accountCapabilities['urn:ietf:params:jmap:blob'];
      return new Response(JSON.stringify(session), { status: res.status, headers: { 'Content-Type': 'application/json' } });
    }) as typeof fetch,
  });
  try {
    some.forEach((raw, i) => plain.store.importMessage(plain.user, 'inbox', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000) }));
    const c = await RawClient.connect(plain.imapPort);
    await c.line();
    await c.command('a', `LOGIN "${plain.user}" "${plain.password}"`);
    await c.command('b', 'EXAMINE INBOX', 20_000);
    downloads = 0;
    const lines = await c.command('f', 'UID FETCH 1:* BODY.PEEK[]', 60_000);
    assert.match(lines.at(-1)!, /^f OK/);
    const got = literals(Buffer.from(lines.join('\r\n'), 'latin1'));
    assert.equal(got.length, some.length);
    got.forEach((r, i) => {
      assert.equal(r.seq, i + 1, 'FETCH responses in message order');
      assert.ok(r.bytes.equals(some[i]!), `message ${i + 1} byte for byte`);
    });
    assert.equal(downloads, some.length, 'each message downloaded once');
    c.close();
  } finally {
    await plain.close();
  }
});
