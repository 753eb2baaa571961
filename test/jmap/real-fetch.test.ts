/** JmapClient with Node's real fetch against a local HTTP server: redirects, auth forwarding, timeouts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JmapClient, basicAuth } from '../../src/backend/jmap/client.ts';
import { ImapError } from '../../src/protocol/errors.ts';

async function serve(handler: (req: IncomingMessage, res: ServerResponse, base: string) => void) {
  let base = '';
  const server = createServer((req, res) => handler(req, res, base));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { base, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

test('real fetch: a redirected /.well-known/jmap keeps Authorization on the same origin; relative apiUrl works', async () => {
  const seen: Array<[string, string | undefined]> = [];
  const srv = await serve((req, res) => {
    seen.push([req.url ?? '', req.headers.authorization]);
    if (req.url === '/.well-known/jmap') { res.writeHead(301, { Location: '/jmap/session' }).end(); return; }
    if (req.url === '/jmap/session') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({
        capabilities: { 'urn:ietf:params:jmap:core': { maxCallsInRequest: 8 } }, accounts: {},
        primaryAccounts: { 'urn:ietf:params:jmap:mail': 'A' }, username: 'u', apiUrl: 'api',
        downloadUrl: 'dl/{accountId}/{blobId}', uploadUrl: 'up/{accountId}', eventSourceUrl: 'ev', state: 's',
      }));
      return;
    }
    if (req.url === '/jmap/api' && req.method === 'POST') {
      let body = '';
      req.on('data', (c: Buffer) => { body += c.toString(); });
      req.on('end', () => {
        const { methodCalls } = JSON.parse(body) as { methodCalls: unknown[][] };
        res.writeHead(200, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ methodResponses: methodCalls.map((c) => [c[0], { ok: true }, c[2]]), sessionState: 's' }));
      });
      return;
    }
    res.writeHead(404).end();
  });
  try {
    const c = new JmapClient({ sessionUrl: `${srv.base}/.well-known/jmap`, auth: basicAuth('u', 'p') });
    const out = await c.call([['Core/echo', {}, 'x']]);
    assert.deepEqual(out, [['Core/echo', { ok: true }, 'x']]);
    assert.deepEqual(seen.map((s) => s[0]), ['/.well-known/jmap', '/jmap/session', '/jmap/api']);
    for (const [, a] of seen) assert.equal(a, 'Basic dTpw');
  } finally {
    await srv.close();
  }
});

test('real fetch: a server that never answers times out as NO [UNAVAILABLE]', async () => {
  const srv = await serve(() => { /* never respond */ });
  try {
    const c = new JmapClient({ sessionUrl: `${srv.base}/.well-known/jmap`, auth: basicAuth('u', 'p'), timeoutMs: 100 });
    await assert.rejects(c.session(), (e) => e instanceof ImapError && e.code?.name === 'UNAVAILABLE' && /timed out/.test(e.message));
  } finally {
    await srv.close();
  }
});

test('real fetch: an unreachable host is NO [UNAVAILABLE]', async () => {
  const srv = await serve(() => undefined);
  const url = `${srv.base}/.well-known/jmap`;
  await srv.close(); // nothing listens there any more
  const c = new JmapClient({ sessionUrl: url, auth: basicAuth('u', 'p'), timeoutMs: 2000 });
  await assert.rejects(c.session(), (e) => e instanceof ImapError && e.code?.name === 'UNAVAILABLE');
});
