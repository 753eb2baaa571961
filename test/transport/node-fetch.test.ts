/**
 * src/transport/node-fetch.ts: the gateway's JMAP POSTs over node:http must behave as the WHATWG `fetch` they
 * replace (with `redirect: 'manual'`, as JmapClient calls it): the same request octets and headers reach the server,
 * the answer's status, headers and body come back as sent (content codings decoded, RFC 9110 §8.4), redirects are
 * not followed, aborts and network failures reject. Each case is checked against Node's own `fetch` too.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import { nativeFetch, nodeFetch } from '../../src/transport/node-fetch.ts';
import { jmapFetch, preferFetch } from '../../src/backend/jmap/runtime-fetch.ts';

interface Seen { method: string; url: string; headers: http.IncomingHttpHeaders; body: Buffer }

describe('node-fetch (JMAP POSTs over node:http)', () => {
  let server: http.Server;
  let base = '';
  const seen: Seen[] = [];
  before(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        if (req.url === '/redirect') { res.writeHead(307, { Location: '/elsewhere' }); res.end(); return; }
        if (req.url === '/gzip') { const z = zlib.gzipSync(Buffer.from('{"zipped":true}')); res.writeHead(200, { 'Content-Encoding': 'gzip', 'Content-Type': 'application/json' }); res.end(z); return; }
        if (req.url === '/slow') return; // never answers: the caller aborts
        if (req.url === '/empty') { res.writeHead(204); res.end(); return; }
        res.writeHead(201, { 'Content-Type': 'application/json', 'X-Echo-Length': String(body.length) });
        res.end(JSON.stringify({ got: body.toString('latin1') }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

  const both = [['node-fetch', nodeFetch], ['global fetch', nativeFetch]] as const;

  test('a POST arrives with its octets and headers; status, headers and body come back', async () => {
    for (const [who, f] of both) {
      seen.length = 0;
      const bytes = new Uint8Array([0x7b, 0x7d, 0x00, 0xff, 0x0d, 0x0a]); // binary upload octets, kept as they are
      const res = await f(`${base}/api`, { method: 'POST', body: bytes, headers: new Headers({ Authorization: 'Basic dTpw', 'Content-Type': 'message/rfc822' }), redirect: 'manual' });
      assert.equal(res.status, 201, who);
      assert.equal(res.headers.get('x-echo-length'), '6', who);
      assert.deepEqual(await res.json(), { got: Buffer.from(bytes).toString('latin1') }, who);
      assert.equal(seen[0]!.method, 'POST', who);
      assert.equal(seen[0]!.headers.authorization, 'Basic dTpw', who);
      assert.equal(seen[0]!.headers['content-type'], 'message/rfc822', who);
      assert.equal(seen[0]!.headers['content-length'], '6', who);
      assert.deepEqual([...seen[0]!.body], [...bytes], who);
    }
  });

  test('a string body is sent as UTF-8', async () => {
    for (const [who, f] of both) {
      seen.length = 0;
      await (await f(`${base}/api`, { method: 'POST', body: '{"x":"é"}' })).arrayBuffer();
      assert.deepEqual([...seen[0]!.body], [...Buffer.from('{"x":"é"}', 'utf8')], who);
      assert.equal(seen[0]!.headers['content-length'], String(Buffer.byteLength('{"x":"é"}')), who);
    }
  });

  test('a redirect is handed back, not followed (redirect: manual)', async () => {
    seen.length = 0;
    const res = await nodeFetch(`${base}/redirect`, { method: 'POST', body: '{}', redirect: 'manual' });
    assert.equal(res.status, 307);
    assert.equal(res.headers.get('location'), '/elsewhere');
    assert.equal(seen.length, 1);
  });

  test('a gzip answer is decoded (RFC 9110 §8.4.1.3), as fetch does', async () => {
    for (const [who, f] of both) assert.deepEqual(await (await f(`${base}/gzip`, { method: 'POST', body: '{}' })).json(), { zipped: true }, who);
  });

  test('204 has no body', async () => {
    const res = await nodeFetch(`${base}/empty`, { method: 'POST', body: '{}' });
    assert.equal(res.status, 204);
    assert.equal(res.body, null);
  });

  test('an abort rejects with the signal reason; an unreachable server rejects', async () => {
    const ctl = new AbortController();
    const p = nodeFetch(`${base}/slow`, { method: 'POST', body: '{}', signal: ctl.signal });
    setTimeout(() => ctl.abort(new Error('timed out')), 50);
    await assert.rejects(p, /timed out/);
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await assert.rejects(nodeFetch(`http://127.0.0.1:${port}/api`, { method: 'POST', body: '{}' }), TypeError);
  });

  test('a GET is left to the global fetch', async () => {
    seen.length = 0;
    const res = await nodeFetch(`${base}/api`);
    assert.equal(res.status, 201);
    assert.equal(seen[0]!.method, 'GET');
  });

  test('jmapFetch: the preferred client only while the global fetch is the native one (a wrapper sees every request)', async () => {
    preferFetch(nodeFetch, nativeFetch);
    const original = globalThis.fetch;
    let wrapped = 0;
    globalThis.fetch = async (input, init) => { wrapped++; return original(input, init); };
    try {
      await (await jmapFetch(`${base}/api`, { method: 'POST', body: '{}' })).arrayBuffer();
      assert.equal(wrapped, 1);
    } finally {
      globalThis.fetch = original;
    }
    await (await jmapFetch(`${base}/api`, { method: 'POST', body: '{}' })).arrayBuffer();
    assert.equal(wrapped, 1);
  });
});
