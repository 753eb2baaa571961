/**
 * Python's imaplib (a second, independent client implementation) through the gateway: cleartext on loopback,
 * STARTTLS and implicit TLS. BODY.PEEK[] must return the stored bytes exactly.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { ALL } from '../fixtures/messages.ts';

const SCRIPT = new URL('./imaplib_client.py', import.meta.url).pathname;
let bed: TestBed;

before(async () => {
  bed = await startTestBed();
  const t0 = Date.UTC(2024, 0, 10, 9, 0, 0);
  ALL.forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(t0 + i * 60_000) }));
});
after(() => bed.close());

interface Result {
  capabilities_at_connect: string[];
  capabilities_before_login: string[];
  login: string;
  list: string[];
  exists: number;
  listing: Array<{ uid: number; size: number; headers: string }>;
  bodies: Record<string, string>;
  logout: string;
}

async function run(mode: 'plain' | 'starttls' | 'tls'): Promise<Result> {
  const port = mode === 'tls' ? bed.imapsPort : bed.imapPort;
  // Asynchronous: a blocking call would stall the gateway, which runs in this process.
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile('python3', [SCRIPT, mode, bed.host, String(port), bed.user, bed.password], { timeout: 30_000 }, (err, out, errOut) =>
      err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
  );
  return JSON.parse(stdout) as Result;
}

for (const mode of ['plain', 'starttls', 'tls'] as const) {
  test(`imaplib over ${mode}: login, LIST, SELECT, folder listing, byte-identical BODY.PEEK[]`, async () => {
    const r = await run(mode);
    assert.equal(r.login, 'OK');
    if (mode === 'starttls') {
      assert.ok(r.capabilities_at_connect.includes('STARTTLS'));
      assert.ok(!r.capabilities_before_login.includes('STARTTLS'), 'RFC 9051 §6.2.1: not offered again once TLS is on');
    }
    assert.ok(r.list.some((l) => /^\(.*\) "\/" INBOX$/.test(l)), r.list.join('\n'));
    assert.ok(r.list.some((l) => /\\Sent/.test(l) && /"\/" Sent$/.test(l)));
    assert.equal(r.exists, ALL.length);
    assert.deepEqual(r.listing.map((x) => x.uid), ALL.map((_, i) => i + 1));
    assert.deepEqual(r.listing.map((x) => x.size), ALL.map((m) => m.length));
    for (const [i, raw] of ALL.entries()) {
      assert.ok(Buffer.from(r.bodies[String(i + 1)]!, 'base64').equals(Buffer.from(raw)), `UID ${i + 1} identical`);
    }
    assert.equal(r.logout, 'BYE');
  });
}
