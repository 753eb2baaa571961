/**
 * RFC 9404 §4.1 Blob/upload in the embedded store: a blob made of DataSourceObjects (text, base64, a range of
 * another blob) inside an API request, usable by later calls of the same request through its creation id
 * (RFC 8620 §5.3 `#id`), e.g. Email/import (RFC 8621 §4.8).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, CORE, MAIL, fixture, roleId } from './helpers.ts';

const BLOB = 'urn:ietf:params:jmap:blob';

test('Blob/upload: base64 + text + a range concatenated; the exact octets come back by download', async () => {
  const fx = fixture();
  const octets = new Uint8Array([0x53, 0x75, 0x62, 0x6a, 0xe9, 0x00, 0xff, 0x0d, 0x0a]);
  const r = await fx.api([['Blob/upload', { accountId: fx.accountId, create: { a: { data: [
    { 'data:asBase64': Buffer.from(octets).toString('base64') }, { 'data:asText': 'é' },
  ], type: 'application/octet-stream' } } }, 'u'],
  ['Blob/upload', { accountId: fx.accountId, create: { b: { data: [{ blobId: '#a', offset: 1, length: 3 }] } } }, 'v']], [CORE, BLOB]);
  const a = r.methodResponses[0][1].created.a;
  assert.equal(a.size, octets.length + 2); // "é" is two UTF-8 octets
  const dl = await fx.store.fetch(new Request(`${BASE}/jmap/download/${fx.accountId}/${a.id}/x?type=a/b`, { headers: { authorization: fx.auth } }));
  assert.deepEqual(new Uint8Array(await dl.arrayBuffer()), new Uint8Array([...octets, 0xc3, 0xa9]));
  const b = r.methodResponses[1][1].created.b;
  const dl2 = await fx.store.fetch(new Request(`${BASE}/jmap/download/${fx.accountId}/${b.id}/x?type=a/b`, { headers: { authorization: fx.auth } }));
  assert.deepEqual(new Uint8Array(await dl2.arrayBuffer()), octets.subarray(1, 4));
});

test('Blob/upload then Email/import of "#creationId" in one request', async () => {
  const fx = fixture();
  const inbox = await roleId(fx, 'inbox');
  const raw = 'Subject: hi\r\nFrom: a@example.org\r\n\r\nbody\r\n';
  const r = await fx.api([
    ['Blob/upload', { accountId: fx.accountId, create: { m: { data: [{ 'data:asText': raw }], type: 'message/rfc822' } } }, 'u'],
    ['Email/import', { accountId: fx.accountId, emails: { e: { blobId: '#m', mailboxIds: { [inbox]: true } } } }, 'i'],
  ], [CORE, MAIL, BLOB]);
  const created = r.methodResponses[1][1].created.e;
  assert.equal(created.size, raw.length);
  assert.equal(created.blobId, r.methodResponses[0][1].created.m.id);
});

test('Blob/upload refusals: bad base64, unknown blob, over maxSizeUpload, unknown property', async () => {
  const fx = fixture({ maxSizeUpload: 4 });
  const r = await fx.api([['Blob/upload', { accountId: fx.accountId, create: {
    bad: { data: [{ 'data:asBase64': 'no$base64' }] },
    gone: { data: [{ blobId: 'Gnope' }] },
    big: { data: [{ 'data:asText': 'hello' }] },
    odd: { data: [], colour: 'red' },
  } }, 'u']], [CORE, BLOB]);
  const { created, notCreated } = r.methodResponses[0][1];
  assert.equal(created, null);
  assert.equal(notCreated.bad.type, 'invalidProperties');
  assert.equal(notCreated.gone.type, 'blobNotFound');
  assert.equal(notCreated.big.type, 'tooLarge');
  assert.deepEqual([notCreated.odd.type, notCreated.odd.properties], ['invalidProperties', ['colour']]);
});

test('Blob/get data:asText keeps a leading byte order mark (RFC 9404 §4.2: the blob as it is, decoded as UTF-8)', async () => {
  const fx = fixture();
  const octets = [0xef, 0xbb, 0xbf, ...Buffer.from('after a BOM\r\n', 'utf8')];
  const up = await fx.api([['Blob/upload', { accountId: fx.accountId, create: { a: { data: [
    { 'data:asBase64': Buffer.from(octets).toString('base64') }] } } }, 'u']], [CORE, BLOB]);
  const id = up.methodResponses[0][1].created.a.id;
  const r = await fx.api([['Blob/get', { accountId: fx.accountId, ids: [id], properties: ['data:asText', 'size'] }, 'g']], [CORE, BLOB]);
  const blob = r.methodResponses[0][1].list[0];
  assert.equal(blob['data:asText'], '\ufeffafter a BOM\r\n');
  assert.equal(blob.size, octets.length);
});
