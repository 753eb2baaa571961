/**
 * FETCH ENVELOPE / BODYSTRUCTURE / BODY / BINARY / PREVIEW / EMAILID / THREADID and the macros end to end:
 * real TCP to the gateway, real HTTP to the embedded JMAP store. Expected answers come from the RFC text (RFC 9051
 * §6.4.5, §7.5.2; RFC 3516; RFC 8474 §5; RFC 8970) and from Dovecot 2.3.19's answers for the same messages
 * (test/fixtures/dovecot-golden.ts). JMAP requests and blob downloads are counted (DESIGN.md rules 8 and 9).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { jmapBasicAuthenticator } from '../../src/auth/jmap-basic.ts';
import { EIGHT_BIT, MULTIPART, SIMPLE } from '../fixtures/messages.ts';
import { ADDRESSES, NESTED } from '../fixtures/fetch-messages.ts';
import { DOVECOT } from '../fixtures/dovecot-golden.ts';
import { fetchResponses, readValues, type Tree } from '../mime/imap-value.ts';

/** INBOX: 1 SIMPLE, 2 MULTIPART, 3 ADDRESSES, 4 NESTED. */
const INBOX = [SIMPLE, MULTIPART, ADDRESSES, NESTED];
let bed: TestBed;
/** `download`: blobs fetched, one download (RFC 8620 §6.2) each or several per `Blob/get` (RFC 9404 §4.2). */
const http = { api: 0, download: 0, bodies: [] as string[] };

function blobGetIds(body: string): number {
  if (!body.includes('Blob/get')) return 0;
  const req = JSON.parse(body) as { methodCalls: Array<[string, { ids?: string[] }, string]> };
  return req.methodCalls.filter(([name]) => name === 'Blob/get').reduce((n, [, a]) => n + (a.ids?.length ?? 0), 0);
}
let c: RawClient;

before(async () => {
  let url = '';
  const counting: typeof fetch = async (input, init) => {
    const u = String(input instanceof Request ? input.url : input);
    if (u.includes('/download/')) http.download++;
    else if (init?.method === 'POST') {
      http.api++;
      http.bodies.push(String(init.body ?? ''));
      http.download += blobGetIds(String(init.body ?? '')); // RFC 9404 Blob/get: blobs fetched in an API request
    }
    return fetch(input, init);
  };
  bed = await startTestBed({
    gateway: {
      authenticator: {
        login: (creds) => jmapBasicAuthenticator({ sessionUrl: `${url}/.well-known/jmap`, tenant: 'test', fetch: counting }).login(creds),
      },
    },
  });
  url = bed.jmapUrl;
  const t0 = Date.UTC(2024, 0, 10, 9, 0, 0);
  INBOX.forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(t0 + i * 60_000) }));
  c = await RawClient.connect(bed.imapPort);
  await c.line();
  assert.match((await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^l OK/);
  assert.match((await c.command('s', 'SELECT INBOX')).at(-1)!, /^s OK/);
});
after(async () => {
  c.close();
  await bed.close();
});

let n = 0;
/** Runs a command, asserts the tagged status, returns the FETCH responses parsed by meaning. */
async function run(cmd: string, status = 'OK') {
  const tag = `t${++n}`;
  const r = await c.command(tag, cmd);
  assert.match(r.at(-1)!, new RegExp(`^${tag} ${status}`), `${cmd}\n${r.join('\n')}`);
  return { lines: r, fetches: fetchResponses(r.slice(0, -1).join('\r\n') + '\r\n'), tagged: r.at(-1)! };
}
const golden = (name: string, item: 'bodystructure' | 'body' | 'envelope'): Tree =>
  readValues(DOVECOT.find((g) => g.name === name)![item])[1]!;
const latin1 = (b: Uint8Array) => Buffer.from(b).toString('latin1');

test('ENVELOPE and BODYSTRUCTURE over the wire equal Dovecot 2.3.19\'s for the same messages', async () => {
  const { fetches } = await run('FETCH 1:4 (ENVELOPE BODYSTRUCTURE BODY)');
  const names = ['SIMPLE', 'MULTIPART', 'ADDRESSES', 'NESTED'];
  assert.equal(fetches.length, 4);
  for (const f of fetches) {
    const name = names[f.seq - 1]!;
    assert.deepEqual(f.items.get('ENVELOPE'), golden(name, 'envelope'), `${name} ENVELOPE`);
    assert.deepEqual(f.items.get('BODYSTRUCTURE'), golden(name, 'bodystructure'), `${name} BODYSTRUCTURE`);
    assert.deepEqual(f.items.get('BODY'), golden(name, 'body'), `${name} BODY`);
  }
});

test('a warm ENVELOPE + BODYSTRUCTURE listing costs one JMAP request and no blob download', async () => {
  await run('FETCH 1:4 (ENVELOPE BODYSTRUCTURE)'); // warms the cache if the previous test did not run
  const before = { ...http };
  await run('FETCH 1:4 (ENVELOPE BODYSTRUCTURE)');
  assert.equal(http.download - before.download, 0, 'no blob downloaded again');
  assert.equal(http.api - before.api, 1, 'one Email/get of metadata (blobIds)');
});

test('a cold ENVELOPE of 7-bit messages comes from JMAP headers; a cold BODYSTRUCTURE downloads each blob once', async () => {
  const t0 = Date.UTC(2024, 1, 1);
  const fresh = (i: number) => new TextEncoder().encode(
    `From: "Sender ${i}" <s${i}@example.com>\r\nTo: r@example.org\r\nSubject: cold ${i} ${Date.now()}\r\nMessage-ID: <cold-${i}-${Date.now()}@x>\r\n\r\nbody ${i}\r\n`);
  for (let i = 0; i < 3; i++) bed.store.importMessage(bed.user, 'archive', fresh(i), { receivedAt: new Date(t0 + i * 1000) });
  const d = await RawClient.connect(bed.imapPort);
  await d.line();
  await d.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await d.command('b', 'EXAMINE Archive');
  const b1 = { ...http };
  const env = await d.command('c', 'FETCH 1:3 ENVELOPE');
  assert.match(env.at(-1)!, /^c OK/);
  assert.equal(http.download - b1.download, 0, '7-bit headers need no blob');
  assert.ok(http.api - b1.api <= 2, `${http.api - b1.api} requests`);
  assert.match(env[0]!, /^\* 1 FETCH \(ENVELOPE \(NIL "cold 0 \d+" \(\("Sender 0" NIL "s0" "example\.com"\)\) /);
  const b2 = { ...http };
  const bs = await d.command('d', 'FETCH 1:3 (ENVELOPE BODYSTRUCTURE)');
  assert.match(bs.at(-1)!, /^d OK/);
  assert.equal(http.download - b2.download, 3, 'each blob downloaded once');
  assert.match(bs[0]!, /BODYSTRUCTURE \("text" "plain" \("charset" "us-ascii"\) NIL NIL "7bit" 8 1 NIL NIL NIL NIL\)\)$/);
  d.close();
});

test('RFC 3516 BINARY: decoded base64 with NUL as literal8, QP decoded, partial on decoded data, SIZE', async () => {
  const { lines, fetches } = await run('FETCH 4 (BINARY.PEEK[2] BINARY.SIZE[2] BINARY.PEEK[3.1] BINARY.SIZE[3.1] BINARY.PEEK[2]<2.3> BINARY.PEEK[9])');
  // Dovecot: BINARY[2] ~{7} 00 01 02 03 00 61 62; BINARY[3.1] "Caf\xe9 = softbreak"; BINARY[2]<2> ~{3} 02 03 00.
  assert.match(lines[0]!, /BINARY\[2\] ~\{7\}$/, 'literal8 because the data has NUL');
  const f = fetches[0]!.items;
  assert.equal(f.get('BINARY[2]'), '\x00\x01\x02\x03\x00ab');
  assert.equal(f.get('BINARY.SIZE[2]'), 7);
  assert.equal(f.get('BINARY[3.1]'), 'Caf\xe9 = softbreak');
  assert.equal(f.get('BINARY.SIZE[3.1]'), 16);
  assert.equal(f.get('BINARY[2]<2>'), '\x02\x03\x00');
  assert.equal(f.get('BINARY[9]'), '', 'a part that does not exist is empty (as Dovecot answers)');
});

test('RFC 3516 §4.3: an unknown Content-Transfer-Encoding fails with NO [UNKNOWN-CTE] and sets no flag', async () => {
  const { tagged } = await run('FETCH 4 (BINARY[4])', 'NO');
  assert.match(tagged, /NO \[UNKNOWN-CTE\]/);
  const { fetches } = await run('FETCH 4 FLAGS');
  assert.deepEqual(fetches[0]!.items.get('FLAGS'), []);
});

test('BINARY without .PEEK sets \\Seen and reports FLAGS (RFC 9051 §6.4.5)', async () => {
  const { fetches } = await run('FETCH 1 (BINARY[1])');
  const text = latin1(SIMPLE);
  assert.equal(fetches[0]!.items.get('BINARY[1]'), text.slice(text.indexOf('\r\n\r\n') + 4), 'a 7bit body as is');
  assert.deepEqual(fetches[0]!.items.get('FLAGS'), [{ atom: '\\Seen' }]);
});

test('macros (RFC 9051 §6.4.5): FAST, ALL, FULL expand to their items', async () => {
  const keys = async (m: string) => [...(await run(`FETCH 2 ${m}`)).fetches[0]!.items.keys()].sort();
  assert.deepEqual(await keys('FAST'), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  assert.deepEqual(await keys('ALL'), ['ENVELOPE', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  assert.deepEqual(await keys('FULL'), ['BODY', 'ENVELOPE', 'FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
});

test('RFC822.HEADER, RFC822.TEXT, BODY[n.MIME], nested parts and partials are the stored octets', async () => {
  const text = latin1(NESTED);
  const { fetches } = await run('FETCH 4 (RFC822.HEADER BODY.PEEK[3.MIME] BODY.PEEK[3.HEADER] BODY.PEEK[3.2] BODY.PEEK[3.1.MIME] BODY.PEEK[3.1]<0.5>)');
  const f = fetches[0]!.items;
  assert.equal(f.get('RFC822.HEADER'), text.slice(0, text.indexOf('\r\n\r\n') + 4));
  assert.equal(f.get('BODY[3.MIME]'), 'Content-Type: message/rfc822\r\n\r\n');
  assert.match(f.get('BODY[3.HEADER]') as string, /^From: frank@example\.com\r\n[^]*boundary=inner\r\n\r\n$/);
  assert.equal(f.get('BODY[3.2]'), '<b>inner</b>');
  assert.equal(f.get('BODY[3.1.MIME]'), 'Content-Type: text/plain; charset=ISO-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n');
  assert.equal(f.get('BODY[3.1]<0>'), 'Caf=E');
  const t = await run('FETCH 2 (RFC822.TEXT)'); // non-PEEK: sets \Seen
  assert.equal(t.fetches[0]!.items.get('RFC822.TEXT'), latin1(MULTIPART).slice(latin1(MULTIPART).indexOf('\r\n\r\n') + 4));
});

test('RFC 8970 PREVIEW: at most 256 characters of text, never NIL without LAZY; PREVIEW (LAZY) answers too', async () => {
  const { fetches } = await run('FETCH 1 (PREVIEW PREVIEW (LAZY))');
  const p = fetches[0]!.items.get('PREVIEW');
  assert.equal(typeof p, 'string');
  assert.ok((p as string).startsWith('Shall we try the new place on Friday?'), String(p));
  const long = new TextEncoder().encode(`From: x@y.example\r\nSubject: long\r\n\r\n${'word '.repeat(400)}\r\n`);
  bed.store.importMessage(bed.user, 'drafts', long);
  const d = await RawClient.connect(bed.imapPort);
  await d.line();
  await d.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await d.command('b', 'EXAMINE Drafts');
  const r = await d.command('c', 'FETCH 1 PREVIEW');
  const got = fetchResponses(r.slice(0, -1).join('\r\n') + '\r\n')[0]!.items.get('PREVIEW') as string;
  assert.ok(got.length > 0 && [...got].length <= 256, `${[...got].length} characters`);
  d.close();
});

test('RFC 8474 §5 EMAILID and THREADID are the JMAP Email id and threadId', async () => {
  const session = await (await fetch(`${bed.jmapUrl}/.well-known/jmap`, { headers: { authorization: `Basic ${Buffer.from(`${bed.user}:${bed.password}`).toString('base64')}` } })).json() as { apiUrl: string; primaryAccounts: Record<string, string> };
  const accountId = session.primaryAccounts['urn:ietf:params:jmap:mail']!;
  const res = await (await fetch(session.apiUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${Buffer.from(`${bed.user}:${bed.password}`).toString('base64')}` },
    body: JSON.stringify({
      using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'],
      methodCalls: [
        ['Email/query', { accountId, filter: { inMailbox: undefined, header: ['Message-ID', '<nested-6@example.com>'] } }, 'q'],
        ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['id', 'threadId'] }, 'g'],
      ],
    }),
  })).json() as { methodResponses: Array<[string, { list?: Array<{ id: string; threadId: string }> }, string]> };
  const email = res.methodResponses[1]![1].list![0]!;
  const { lines } = await run('FETCH 4 (EMAILID THREADID)');
  assert.equal(lines[0], `* 4 FETCH (EMAILID (${email.id}) THREADID (${email.threadId}))`);
  assert.match(email.id, /^[A-Za-z0-9_-]{1,255}$/, 'RFC 8474 objectid syntax');
});

test('imapflow reads envelope, bodyStructure, source and bodyParts', async () => {
  const client = new ImapFlow({ host: bed.host, port: bed.imapPort, secure: false, doSTARTTLS: false, auth: { user: bed.user, pass: bed.password }, logger: false });
  await client.connect();
  const lock = await client.getMailboxLock('INBOX', { readOnly: true });
  try {
    const msg = await client.fetchOne('4', { envelope: true, bodyStructure: true, source: true, bodyParts: ['3.2', '2'] });
    assert.ok(msg);
    assert.equal(msg.envelope?.messageId, '<nested-6@example.com>');
    assert.equal(msg.envelope?.from?.[0]?.address, 'eve@example.com');
    assert.equal(Buffer.compare(msg.source!, Buffer.from(NESTED)), 0, 'source is the stored message byte for byte');
    const bs = msg.bodyStructure!;
    assert.equal(bs.type, 'multipart/mixed');
    assert.deepEqual(bs.childNodes?.map((p) => [p.part, p.type]), [['1', 'text/plain'], ['2', 'application/octet-stream'], ['3', 'message/rfc822'], ['4', 'text/plain']]);
    assert.equal(bs.childNodes?.[1]?.disposition, 'attachment');
    assert.equal(bs.childNodes?.[1]?.encoding, 'base64');
    assert.equal(msg.bodyParts?.get('3.2')?.toString(), '<b>inner</b>');
    assert.equal(msg.bodyParts?.get('2')?.toString(), 'AAECAwBhYg==');
    const addr = await client.fetchOne('3', { envelope: true });
    assert.ok(addr);
    assert.equal(addr.envelope?.from?.[0]?.name, 'Doe, John "JD"');
    assert.deepEqual(addr.envelope?.bcc?.map((a) => a.address), ['carl@example.net', 'localonly@MISSING_DOMAIN']);
  } finally {
    lock.release();
    await client.logout();
  }
});

test('RFC 3516 §4.4: a message with NUL octets APPENDed as literal8 comes back byte for byte through BINARY', async () => {
  const head = new TextEncoder().encode('From: bin@example.com\r\nSubject: binary\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nhi\r\n--z\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n');
  const payload = new Uint8Array([0, 1, 2, 0, 255, 13, 10, 0]);
  const tail = new TextEncoder().encode('\r\n--z--\r\n');
  const msg = Buffer.concat([head, payload, tail]);
  const d = await RawClient.connect(bed.imapPort);
  await d.line();
  await d.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  d.write(`b APPEND Junk ~{${msg.length}}\r\n`);
  assert.match(await d.line(), /^\+ /);
  d.write(Buffer.concat([msg, Buffer.from('\r\n')]));
  assert.match((await d.until('b')).at(-1)!, /^b OK/);
  await d.command('c', 'EXAMINE Junk');
  const r = await d.command('e', 'FETCH 1 (BINARY.SIZE[2] BINARY.PEEK[2] RFC822.SIZE)');
  assert.match(r.at(-1)!, /^e OK/);
  const f = fetchResponses(r.slice(0, -1).join('\r\n') + '\r\n')[0]!.items;
  assert.equal(f.get('BINARY.SIZE[2]'), payload.length);
  assert.equal(f.get('BINARY[2]'), latin1(payload));
  assert.equal(f.get('RFC822.SIZE'), msg.length);
  assert.match(r[0]!, /BINARY\[2\] ~\{8\}$/);
  d.close();
});

test('ENVELOPE of a message with 8-bit header octets comes from the raw message, octets kept (DESIGN.md rule 11)', async () => {
  bed.store.importMessage(bed.user, 'trash', EIGHT_BIT);
  const d = await RawClient.connect(bed.imapPort);
  await d.line();
  await d.command('a', `LOGIN "${bed.user}" "${bed.password}"`);
  await d.command('b', 'EXAMINE Trash');
  const b = { ...http };
  const r = await d.command('c', 'FETCH 1 ENVELOPE');
  assert.match(r.at(-1)!, /^c OK/);
  assert.equal(http.download - b.download, 1, 'JMAP may have replaced the invalid octet: the blob is the source');
  const env = fetchResponses(r.slice(0, -1).join('\r\n') + '\r\n')[0]!.items.get('ENVELOPE');
  assert.deepEqual(env, golden('EIGHT_BIT', 'envelope'));
  d.close();
});
