/** Email/import + Email/get (RFC 8621 §4.1, §4.2, §4.8): header forms, body structure, sizes and dates. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, bytes, crlf, fixture, roleId, type Json } from './helpers.ts';

const RAW = crlf(
  'From: "  James Smythe" <james@example.com>',
  'To: "  James Smythe" <james@example.com>, Friends:',
  '  jane@example.com, =?UTF-8?Q?John_Sm=C3=AEth?=',
  '  <john@example.com>;',
  'Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus',
  '   =?ISO-8859-1?Q?M=FCnchen?=',
  'Date: Thu, 13 Feb 1969 23:32:54 -0330',
  'Message-ID: <1234@local.machine.example>',
  'In-Reply-To: <a@x.example> (comment)',
  'References: <a@x.example>',
  '  <b@x.example>',
  'List-Unsubscribe: <mailto:list@host.com?subject=unsubscribe> (Use this command to get off the list),',
  '  <http://www.host.com/list.cgi?cmd=unsub&lst=list>',
  'X-Custom:  two spaces and trailing ',
  'X-Custom: second',
  'MIME-Version: 1.0',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Hello =C3=A9t=C3=A9',
  '');

async function importRaw(fx: ReturnType<typeof fixture>, raw: Uint8Array, extra: object = {}): Promise<Json> {
  const up = await fx.store.fetch(new Request(`${BASE}/jmap/upload/${fx.accountId}/`, { method: 'POST',
    headers: { authorization: fx.auth, 'content-type': 'message/rfc822' }, body: new Uint8Array(raw) }));
  assert.equal(up.status, 201);
  const { blobId } = await up.json();
  const inbox = await roleId(fx, 'inbox');
  const [name, r] = await fx.call('Email/import', { emails: { k1: { blobId, mailboxIds: { [inbox]: true }, ...extra } } });
  assert.equal(name, 'Email/import');
  return r.created.k1;
}

test('Email/import answers id, blobId, threadId, size (RFC 8621 §4.8); size is the octet count of the raw message', async () => {
  const fx = fixture();
  const raw = bytes(RAW);
  const c = await importRaw(fx, raw, { keywords: { '$Seen': true }, receivedAt: '2024-05-06T07:08:09Z' });
  assert.equal(c.size, raw.length);
  assert.notEqual(c.id, c.blobId);
  const [, g] = await fx.call('Email/get', { ids: [c.id], properties: ['size', 'receivedAt', 'keywords', 'blobId', 'threadId'] });
  assert.deepEqual(g.list[0], { id: c.id, size: raw.length, receivedAt: '2024-05-06T07:08:09Z', keywords: { $seen: true },
    blobId: c.blobId, threadId: c.threadId });
  fx.store.close();
});

test('header forms of RFC 8621 §4.1.2 return exact values', async () => {
  const fx = fixture();
  const { id } = await importRaw(fx, bytes(RAW));
  const props = ['header:From', 'header:to:asAddresses', 'header:To:asGroupedAddresses', 'header:Subject:asText',
    'header:Subject', 'header:Date:asDate', 'header:Message-ID:asMessageIds', 'header:In-Reply-To:asMessageIds',
    'header:References:asMessageIds', 'header:List-Unsubscribe:asURLs', 'header:X-Custom', 'header:X-Custom:all',
    'header:X-Custom:asText', 'header:X-Missing', 'header:X-Missing:all', 'subject', 'sentAt', 'messageId', 'inReplyTo',
    'references', 'from'];
  const [, g] = await fx.call('Email/get', { ids: [id], properties: props });
  const e = g.list[0];
  // §4.1.2.1 Raw: octets after the colon up to, not including, the terminating CRLF (folding kept).
  assert.equal(e['header:From'], ' "  James Smythe" <james@example.com>');
  assert.equal(e['header:Subject'], ' =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= aus\r\n   =?ISO-8859-1?Q?M=FCnchen?=');
  assert.equal(e['header:X-Custom'], ' second'); // the last instance
  assert.deepEqual(e['header:X-Custom:all'], ['  two spaces and trailing ', ' second']);
  assert.equal(e['header:X-Custom:asText'], 'second');
  assert.equal(e['header:X-Missing'], null);
  assert.deepEqual(e['header:X-Missing:all'], []);
  // §4.1.2.3 and §4.1.2.4: the worked example. (The RFC prints "John Smith"; =C3=AE decodes to "î".)
  assert.deepEqual(e['header:to:asAddresses'], [
    { name: 'James Smythe', email: 'james@example.com' },
    { name: null, email: 'jane@example.com' },
    { name: 'John Smîth', email: 'john@example.com' }]);
  assert.deepEqual(e['header:To:asGroupedAddresses'], [
    { name: null, addresses: [{ name: 'James Smythe', email: 'james@example.com' }] },
    { name: 'Friends', addresses: [{ name: null, email: 'jane@example.com' }, { name: 'John Smîth', email: 'john@example.com' }] }]);
  // §4.1.2.2 Text: unfolded, leading SP removed, encoded words decoded (the folding CRLF removed, its white space kept).
  assert.equal(e['header:Subject:asText'], 'Grüße aus   München');
  assert.equal(e.subject, e['header:Subject:asText']);
  // §4.1.2.6 Date keeps the zone of the header (RFC 5322 §3.3 example date).
  assert.equal(e['header:Date:asDate'], '1969-02-13T23:32:54-03:30');
  assert.equal(e.sentAt, '1969-02-13T23:32:54-03:30');
  // §4.1.2.5 MessageIds: no angle brackets, no CFWS.
  assert.deepEqual(e['header:Message-ID:asMessageIds'], ['1234@local.machine.example']);
  assert.deepEqual(e.messageId, ['1234@local.machine.example']);
  assert.deepEqual(e.inReplyTo, ['a@x.example']);
  assert.deepEqual(e.references, ['a@x.example', 'b@x.example']);
  // §4.1.2.7 URLs: RFC 2369 example without brackets and comments.
  assert.deepEqual(e['header:List-Unsubscribe:asURLs'], ['mailto:list@host.com?subject=unsubscribe',
    'http://www.host.com/list.cgi?cmd=unsub&lst=list']);
  assert.deepEqual(e.from, [{ name: 'James Smythe', email: 'james@example.com' }]);
  fx.store.close();
});

test('a form not allowed for a header is invalidArguments (RFC 8621 §4.1.2); unknown property too', async () => {
  const fx = fixture();
  const { id } = await importRaw(fx, bytes(RAW));
  for (const p of ['header:From:asDate', 'header:Subject:asAddresses', 'header:Date:asText', 'header:X:asBogus', 'nonsense']) {
    const [name, r] = await fx.call('Email/get', { ids: [id], properties: [p] });
    assert.equal(name, 'error', p);
    assert.equal(r.type, 'invalidArguments', p);
  }
  fx.store.close();
});

test('raw header with 8-bit octets: invalid UTF-8 becomes U+FFFD, valid UTF-8 is kept (RFC 8621 §4.1.2.1)', async () => {
  const fx = fixture();
  const head = bytes('Subject: caf');
  const raw = new Uint8Array([...head, 0xe9, ...bytes(' / caf'), 0xc3, 0xa9, ...bytes('\r\nFrom: a@b.example\r\n\r\nx\r\n')]);
  const { id } = await importRaw(fx, raw);
  const [, g] = await fx.call('Email/get', { ids: [id], properties: ['header:Subject', 'size'] });
  assert.equal(g.list[0]['header:Subject'], ' caf\uFFFD / café');
  assert.equal(g.list[0].size, raw.length);
  fx.store.close();
});

test('bodyStructure, textBody, htmlBody, attachments and bodyValues of a multipart message (RFC 8621 §4.1.4)', async () => {
  const fx = fixture();
  const raw = bytes(crlf('From: a@b.example', 'Subject: parts', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="outer"', '', 'preamble', '--outer',
    'Content-Type: multipart/alternative; boundary="inner"', '', '--inner',
    'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '', 'Gr=FC=DFe', '--inner',
    'Content-Type: text/html; charset=utf-8', '', '<p>Gr\u00fc\u00dfe</p>', '--inner--', '--outer',
    'Content-Type: application/pdf; name="r.pdf"', 'Content-Disposition: attachment; filename="report.pdf"',
    'Content-Transfer-Encoding: base64', 'Content-ID: <c1@x>', '', 'JVBERi0xLjQK', '--outer--', ''));
  const { id, blobId } = await importRaw(fx, raw);
  const [, g] = await fx.call('Email/get', { ids: [id], properties: ['bodyStructure', 'textBody', 'htmlBody', 'attachments', 'hasAttachment', 'bodyValues'],
    fetchAllBodyValues: true, bodyProperties: ['partId', 'blobId', 'type', 'charset', 'name', 'disposition', 'cid', 'size'] });
  const e = g.list[0];
  assert.equal(e.bodyStructure.type, 'multipart/mixed');
  assert.equal(e.bodyStructure.partId, null); // null iff multipart
  assert.equal(e.bodyStructure.blobId, null);
  assert.deepEqual(e.bodyStructure.subParts.map((p: Json) => p.type), ['multipart/alternative', 'application/pdf']);
  assert.deepEqual(e.textBody.map((p: Json) => p.type), ['text/plain']);
  assert.deepEqual(e.htmlBody.map((p: Json) => p.type), ['text/html']);
  const att = e.attachments[0];
  assert.deepEqual([att.type, att.name, att.disposition, att.cid, att.charset, att.size], ['application/pdf', 'report.pdf', 'attachment', 'c1@x', null, 9]);
  assert.equal(e.hasAttachment, true);
  const plainId = e.textBody[0].partId;
  assert.deepEqual(e.bodyValues[plainId], { value: 'Grüße', isEncodingProblem: false, isTruncated: false });
  // The part blob is the decoded content (RFC 8621 §4.1.4 blobId).
  const dl = await fx.store.fetch(new Request(`${BASE}/jmap/download/${fx.accountId}/${att.blobId}/report.pdf?type=application/pdf`, { headers: { authorization: fx.auth } }));
  assert.equal(dl.status, 200);
  assert.equal(dl.headers.get('content-type'), 'application/pdf');
  assert.equal(await dl.text(), '%PDF-1.4\n');
  assert.notEqual(att.blobId, blobId);
  fx.store.close();
});

test('RFC 8621 §4.1.4 decomposition example: textBody [A,B,C,D,K], htmlBody [A,E,K], attachments [C,F,G,H,J]', async () => {
  const fx = fixture();
  const part = (type: string, label: string, disp?: string) => ['--B' + '{b}', `Content-Type: ${type}`,
    ...(disp ? [`Content-Disposition: ${disp}`] : []), 'X-Label: ' + label, '', label];
  const multipart = (b: string, type: string, children: string[][]) => [`Content-Type: multipart/${type}; boundary="${b}"`, '',
    ...children.flatMap((c) => [...c.map((l) => l.replace('{b}', b))]), `--${b}--`];
  const sub = (lines: string[]) => ['--B{b}', ...lines];
  const tree = multipart('1', 'mixed', [
    part('text/plain', 'A', 'inline'),
    sub(multipart('2', 'mixed', [
      sub(multipart('3', 'alternative', [
        sub(multipart('4', 'mixed', [part('text/plain', 'B', 'inline'), part('image/jpeg', 'C', 'inline'), part('text/plain', 'D', 'inline')])),
        sub(multipart('5', 'related', [part('text/html', 'E'), part('image/jpeg', 'F')])),
      ])),
      part('image/jpeg', 'G', 'attachment'), part('application/x-excel', 'H'), part('message/rfc822', 'J'),
    ])),
    part('text/plain', 'K', 'inline'),
  ]).map((l) => l.replace(/^--B(\d)/, '--$1'));
  const { id } = await importRaw(fx, bytes(crlf('From: a@b.example', 'MIME-Version: 1.0', ...tree, '')));
  const [, g] = await fx.call('Email/get', { ids: [id], properties: ['textBody', 'htmlBody', 'attachments'], bodyProperties: ['header:X-Label:asText'] });
  const labels = (list: Json[]) => list.map((p) => p['header:X-Label:asText']).join('');
  assert.equal(labels(g.list[0].textBody), 'ABCDK');
  assert.equal(labels(g.list[0].htmlBody), 'AEK');
  assert.equal(labels(g.list[0].attachments), 'CFGHJ');
  fx.store.close();
});
