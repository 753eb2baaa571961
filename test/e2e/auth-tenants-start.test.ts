/**
 * The tenants document as `npm start` (src/node.ts) loads it: GATEWAY_TENANTS_JSON and GATEWAY_TENANT_<ID>_<PROP>
 * overrides applied before validation (a bad one stops the process with the schema's message naming the variable),
 * and per-tenant certificate files checked at start (a missing file stops it with a message naming tenant and file).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
let bed: TestBed;
let dir: string;
before(async () => {
  bed = await startTestBed();
  dir = mkdtempSync(join(tmpdir(), 'gw-start-tenants-'));
});
after(async () => {
  await bed.close();
  rmSync(dir, { recursive: true, force: true });
});

const doc = { tenants: [{ id: 'corp', jmapSessionUrl: 'http://127.0.0.1:9/unused', domains: ['example.test'] }] };

/** Start src/node.ts with `env`; resolves at the banner (ports) or when the process exits (code, output). */
function start(env: Record<string, string>): Promise<{ child: ChildProcess; code: number | null; out: string; imapPort?: number }> {
  const args = ['--import', 'tsx', 'src/node.ts', '--data-dir', join(dir, String(Math.random())), '--imap-port', '0', '--imaps-port=-1', '--log-level', 'warn', '--jmap-url', `${bed.jmapUrl}/.well-known/jmap`];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let out = '';
  return new Promise((resolve) => {
    const onData = (d: Buffer): void => {
      out += d.toString();
      const m = /IMAP \(cleartext \+ STARTTLS\): 127\.0\.0\.1:(\d+)/.exec(out);
      if (m && /Stop with Ctrl-C/.test(out)) resolve({ child, code: null, out, imapPort: Number(m[1]) });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => resolve({ child, code, out }));
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once('exit', () => r());
    child.kill('SIGTERM');
  });
}

test('GATEWAY_TENANTS_JSON plus a GATEWAY_TENANT_<ID>_JMAP_SESSION_URL override: logins reach the overridden store', async () => {
  const s = await start({ GATEWAY_TENANTS_JSON: JSON.stringify(doc), GATEWAY_TENANT_CORP_JMAP_SESSION_URL: `${bed.jmapUrl}/.well-known/jmap` });
  try {
    assert.ok(s.imapPort, s.out);
    const c = await RawClient.connect(s.imapPort!);
    await c.line();
    assert.match((await c.command('a', `LOGIN "${bed.user}" "${bed.password}"`)).at(-1)!, /^a OK /, 'the unused URL of the document was replaced');
    c.close();
  } finally {
    await stop(s.child);
  }
});

test("a bad override stops the process with the schema's message naming the variable", async () => {
  const s = await start({ GATEWAY_TENANTS_JSON: JSON.stringify(doc), GATEWAY_TENANT_CORP_JMAP_SESSION_URL: 'ftp://jmap.example.test' });
  await stop(s.child);
  assert.equal(s.code, 2, s.out);
  assert.match(s.out, /\/tenants\/0\/jmapSessionUrl: String does not match the pattern \^https\?:\/\/\. \(set by GATEWAY_TENANT_CORP_JMAP_SESSION_URL\)/);
});

test('a tenant certificate file that does not exist stops the process, naming tenant and file', async () => {
  const missing = join(dir, 'no-such-cert.pem');
  const withTls = { tenants: [{ ...doc.tenants[0], hostnames: ['imap.corp.test'], tls: { certFile: missing, keyFile: join(dir, 'no-such-key.pem') } }] };
  const s = await start({ GATEWAY_TENANTS_JSON: JSON.stringify(withTls) });
  await stop(s.child);
  assert.equal(s.code, 2, s.out);
  assert.ok(s.out.includes(`tenant "corp": tls.certFile ${missing}: cannot read (ENOENT)`), s.out);
});
