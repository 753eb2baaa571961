/**
 * PROXY protocol v2 (HAProxy spec §2.2): the parser on known headers, and listeners behind a load balancer: the
 * client address comes from the header (limits and the TLS policy see it), with cleartext and implicit TLS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { parseProxyV2 } from '../../src/transport/proxy-v2.ts';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';

const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** PROXY TCP4 203.0.113.7:4242 -> 192.0.2.1:143, plus one TLV of 3 octets that must be skipped. */
function v4Header(): Uint8Array {
  const addr = [203, 0, 113, 7, 192, 0, 2, 1, 0x10, 0x92, 0x00, 0x8f];
  const tlv = [0x04, 0x00, 0x00]; // PP2_TYPE_NOOP, length 0
  return new Uint8Array([...SIG, 0x21, 0x11, 0x00, addr.length + tlv.length, ...addr, ...tlv]);
}

describe('parser', () => {
  test('TCP4: address and port, TLVs skipped, the header length consumed', () => {
    const h = v4Header();
    assert.deepEqual(parseProxyV2(new Uint8Array([...h, 0x61])), { status: 'ok', consumed: h.length, source: { address: '203.0.113.7', port: 4242 } });
  });
  test('TCP6 with a compressed address', () => {
    const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x01];
    const body = [...src, ...new Array(16).fill(0), 0x01, 0xbb, 0x00, 0x8f];
    assert.deepEqual(parseProxyV2(new Uint8Array([...SIG, 0x21, 0x21, 0x00, body.length, ...body])), { status: 'ok', consumed: 16 + body.length, source: { address: '2001:db8::1', port: 443 } });
  });
  test('LOCAL carries no address; short input is incomplete; anything else is invalid', () => {
    assert.deepEqual(parseProxyV2(new Uint8Array([...SIG, 0x20, 0x00, 0x00, 0x00])), { status: 'ok', consumed: 16 });
    assert.deepEqual(parseProxyV2(v4Header().subarray(0, 20)), { status: 'incomplete' });
    assert.equal(parseProxyV2(new TextEncoder().encode('a CAPABILITY\r\n')).status, 'invalid');
    assert.equal(parseProxyV2(new TextEncoder().encode('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n')).status, 'invalid', 'v1 text form is not accepted');
  });
});

describe('listeners behind a load balancer', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed({ gateway: { proxyProtocol: true } });
  });
  after(() => bed.close());

  /** Read lines until `pred` matches one (or the socket closes). */
  function reader(sock: net.Socket): (pred: (l: string) => boolean) => Promise<string> {
    let buf = '';
    const waiters: Array<() => void> = [];
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      waiters.splice(0).forEach((w) => w());
    });
    sock.on('close', () => waiters.splice(0).forEach((w) => w()));
    return async (pred) => {
      for (const t0 = Date.now(); Date.now() - t0 < 5000;) {
        const line = buf.split('\r\n').find(pred);
        if (line !== undefined) return line;
        if (sock.destroyed) break;
        await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 100); });
      }
      throw new Error(`no matching line in ${JSON.stringify(buf)}`);
    };
  }

  test('cleartext: the header and the first command in one packet; the client address is the header\'s', async () => {
    const sock = net.connect(bed.imapPort, '127.0.0.1');
    const next = reader(sock);
    await new Promise((r) => sock.once('connect', r));
    sock.write(Buffer.concat([Buffer.from(v4Header()), Buffer.from('a CAPABILITY\r\n')]));
    assert.match(await next((l) => l.startsWith('* OK')), /^\* OK /);
    assert.match(await next((l) => l.startsWith('* CAPABILITY')), /LOGINDISABLED/, 'a non-loopback client without TLS may not log in');
    assert.equal(bed.gateway.config.connectionLimits!.count('address', '203.0.113.7'), 1);
    sock.destroy();
  });

  test('implicit TLS: the header precedes the handshake; LOGIN works over TLS', async () => {
    const raw = net.connect(bed.imapsPort, '127.0.0.1');
    await new Promise((r) => raw.once('connect', r));
    raw.write(Buffer.from(v4Header()));
    const sock = tls.connect({ socket: raw, rejectUnauthorized: false });
    const next = reader(sock);
    assert.match(await next((l) => l.startsWith('* OK')), /AUTH=PLAIN/);
    sock.write(`a LOGIN "${bed.user}" "${bed.password}"\r\n`);
    assert.match(await next((l) => l.startsWith('a ')), /^a OK /);
    sock.destroy();
  });

  test('a connection without the header is closed without a greeting', async () => {
    const sock = net.connect(bed.imapPort, '127.0.0.1');
    const next = reader(sock);
    await new Promise((r) => sock.once('connect', r));
    sock.write('a CAPABILITY\r\n');
    await assert.rejects(next((l) => l.startsWith('*')));
    assert.ok(sock.destroyed || sock.readableEnded);
  });
});
