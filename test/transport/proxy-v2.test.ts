/**
 * PROXY protocol v2 (HAProxy spec §2.2): the parser on known headers, and listeners behind a load balancer: the
 * client address comes from the header (limits and the TLS policy see it), with cleartext and implicit TLS; a TLS
 * terminator's PP2_TYPE_SSL / PP2_TYPE_AUTHORITY TLVs (the client used TLS; its SNI name) on a cleartext listener.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { parseProxyV2 } from '../../src/transport/proxy-v2.ts';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { startTenantsBed, SniClient, type TenantsBed } from '../helpers/tenants-bed.ts';

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

/** TCP4 header from `src` with TLVs `tlvs` (already encoded). */
function v4With(tlvs: number[], src = [198, 51, 100, 20]): Uint8Array {
  const addr = [...src, 192, 0, 2, 1, 0x30, 0x39, 0x00, 0x8f];
  return new Uint8Array([...SIG, 0x21, 0x11, (addr.length + tlvs.length) >> 8, (addr.length + tlvs.length) & 0xff, ...addr, ...tlvs]);
}
const tlv = (type: number, value: number[]): number[] => [type, value.length >> 8, value.length & 0xff, ...value];
const ascii = (s: string): number[] => [...Buffer.from(s, 'latin1')];
/** PP2_TYPE_SSL: client bits, verify = 0, then sub-TLVs (HAProxy spec §2.2.5). */
const ssl = (client: number, subs: number[] = []): number[] => tlv(0x20, [client, 0, 0, 0, 0, ...subs]);
const version = (v: string): number[] => tlv(0x21, ascii(v));
const authority = (name: string): number[] => tlv(0x02, ascii(name));

describe('parser: TLS terminator TLVs (PP2_TYPE_SSL, PP2_TYPE_AUTHORITY)', () => {
  test('PP2_CLIENT_SSL with its version, and the client\'s SNI name', () => {
    const h = v4With([...ssl(0x01, version('TLSv1.3')), ...authority('imap.b.test')]);
    assert.deepEqual(parseProxyV2(h), { status: 'ok', consumed: h.length, source: { address: '198.51.100.20', port: 12345 }, tls: { version: 'TLSv1.3' }, authority: 'imap.b.test' });
  });
  test('PP2_TYPE_SSL without the PP2_CLIENT_SSL bit says nothing of TLS; unknown TLVs are skipped', () => {
    const h = v4With([...tlv(0x04, []), ...ssl(0x02, version('TLSv1.3')), ...tlv(0xe0, [1, 2, 3])]);
    assert.deepEqual(parseProxyV2(h), { status: 'ok', consumed: h.length, source: { address: '198.51.100.20', port: 12345 } });
  });
  test('a TLV or sub-TLV overrunning the header is invalid', () => {
    assert.equal(parseProxyV2(v4With([0x02, 0x00, 0x09, 0x61])).status, 'invalid');
    assert.equal(parseProxyV2(v4With(tlv(0x20, [0x01, 0, 0, 0, 0, 0x21, 0x00, 0x05, 0x54]))).status, 'invalid');
    assert.equal(parseProxyV2(v4With(tlv(0x20, [0x01, 0, 0]))).status, 'invalid', 'PP2_TYPE_SSL shorter than client + verify');
  });
});

describe('a cleartext PROXY listener behind a TLS terminator', () => {
  let bed: TenantsBed;
  before(async () => {
    bed = await startTenantsBed({ gateway: { proxyProtocol: true } });
  });
  after(() => bed.close());

  async function connect(header: Uint8Array): Promise<SniClient> {
    const c = await SniClient.connect(bed.imapPort, { tls: false });
    c.write(header);
    return c;
  }

  test('PP2_CLIENT_SSL makes the connection secure: no LOGINDISABLED, no STARTTLS, LOGIN works; the authority picks the tenant', async () => {
    const c = await connect(v4With([...ssl(0x01, version('TLSv1.3')), ...authority('imap.b.test')]));
    const greeting = await c.line();
    assert.doesNotMatch(greeting, /LOGINDISABLED|STARTTLS/);
    assert.match(greeting, / AUTH=LOGIN[ \]]/, "tenant b's mechanisms: the authority TLV is the SNI name");
    assert.match((await c.command('a', `LOGIN "${bed.a.user}" "${bed.a.password}"`)).at(-1)!, /^a NO \[AUTHENTICATIONFAILED\]/, 'tenant b does not serve alice');
    assert.match((await c.command('b', `LOGIN "${bed.b.user}" "${bed.b.password}"`)).at(-1)!, /^b OK /);
    assert.equal(bed.gateway.config.connectionLimits!.count('address', '198.51.100.20'), 1);
    c.close();
  });

  test('without PP2_TYPE_SSL, or with a version below TLS 1.2, credentials stay refused (LOGINDISABLED)', async () => {
    for (const header of [v4With(authority('imap.b.test')), v4With(ssl(0x01, version('TLSv1.1'))), v4With(ssl(0x01, version('SSLv3')))]) {
      const c = await connect(header);
      assert.match(await c.line(), /LOGINDISABLED/);
      assert.match((await c.command('a', `LOGIN "${bed.b.user}" "${bed.b.password}"`)).at(-1)!, /^a NO \[PRIVACYVIOLATION\]/);
      c.close();
    }
  });
});

describe('a listener not configured for PROXY does not believe the header', () => {
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed({ gateway: { loopbackIsSecure: false } });
  });
  after(() => bed.close());

  test('the SSL TLV is just bytes there: the connection stays cleartext (LOGINDISABLED)', async () => {
    const c = await SniClient.connect(bed.imapPort, { tls: false });
    assert.match(await c.line(), /LOGINDISABLED/);
    c.write(new Uint8Array([...v4With([...ssl(0x01, version('TLSv1.3'))]), 0x0d, 0x0a])); // junk lines to this listener
    assert.match((await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^a NO \[PRIVACYVIOLATION\]/);
    c.close();
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
