/**
 * The bench's JMAP traffic counter (bench/counting.ts, used by bench/store-child.ts) in front of the embedded
 * store: it counts every request, and exactly the body octets the client sent and received (measured here at the
 * client), whichever path answered and however the body was framed; a push stream is not counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { openEmbeddedStore } from '../../src/embedded/index.ts';
import { countingServer, type JmapCounters } from '../../bench/counting.ts';

const CORE = 'urn:ietf:params:jmap:core';

test('requests, request body octets and response body octets are counted exactly', async () => {
  const store = openEmbeddedStore({ dbPath: ':memory:' });
  const { accountId } = store.createUser('u', 'pw');
  const raw = new TextEncoder().encode('Subject: counted\r\n\r\nbody ü\r\n');
  const { blobId } = store.importMessage('u', 'inbox', raw);
  const counters: JmapCounters = { requests: 0, bytesSent: 0, bytesReceived: 0 };
  const server = countingServer(store.nodeListener(), counters);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const auth = 'Basic ' + btoa('u:pw');
  const agent = new http.Agent({ keepAlive: true });
  let sent = 0;
  let received = 0;
  /** One exchange; `chunked` sends the body in two writes without a content-length. */
  const exchange = (method: string, path: string, headers: Record<string, string>, body?: Buffer, chunked = false) =>
    new Promise<{ status: number; body: Buffer }>((resolve, reject) => {
      const h = { ...headers, ...(body && !chunked ? { 'content-length': String(body.length) } : {}) };
      const req = http.request({ host: '127.0.0.1', port, method, path, headers: h, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const b = Buffer.concat(chunks);
          received += b.length;
          resolve({ status: res.statusCode!, body: b });
        });
      });
      req.on('error', reject);
      if (body) sent += body.length;
      if (body && chunked) { req.write(body.subarray(0, 7)); req.end(body.subarray(7)); } else req.end(body);
    });
  const api = (calls: unknown[]) => Buffer.from(JSON.stringify({ using: [CORE, 'urn:ietf:params:jmap:mail'], methodCalls: calls }));
  try {
    const json = { authorization: auth, 'content-type': 'application/json' };
    assert.equal((await exchange('POST', '/jmap/api', json, api([['Core/echo', { s: 'é'.repeat(50) }, '0']]))).status, 200);
    assert.equal((await exchange('POST', '/jmap/api', json, api([['Mailbox/get', { accountId }, '0']]), true)).status, 200);
    assert.equal((await exchange('POST', `/jmap/upload/${accountId}/`, { authorization: auth }, Buffer.from('upload \x00\xff', 'latin1'))).status, 201);
    const dl = await exchange('GET', `/jmap/download/${accountId}/${blobId}/m.eml`, { authorization: auth });
    assert.deepEqual(new Uint8Array(dl.body), raw);
    assert.equal((await exchange('POST', '/jmap/api', { 'content-type': 'application/json' }, Buffer.from('{}'))).status, 401);
    assert.equal((await exchange('GET', '/jmap/session', { authorization: auth })).status, 200);
    assert.equal((await exchange('GET', '/nowhere', {})).status, 404); // through hono
    assert.deepEqual(counters, { requests: 7, bytesSent: sent, bytesReceived: received });
    assert.ok(sent > 0 && received > raw.length);

    // A push stream (RFC 8620 §7.3) is a request, but its never-ending body is not counted.
    await new Promise<void>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port, path: '/jmap/eventsource/?types=*&closeafter=no&ping=0', headers: { authorization: auth }, agent: false }, (res) => {
        assert.equal(res.statusCode, 200);
        res.once('data', () => { req.destroy(); resolve(); });
      });
      req.on('error', reject);
      req.end();
    });
    assert.deepEqual(counters, { requests: 8, bytesSent: sent, bytesReceived: received });
  } finally {
    agent.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    store.close();
  }
});
