/**
 * `npm start` offers OAuth in one step (issue 5): without a tenants document the embedded demo has a local
 * development issuer whose ES256 key is made once in the data directory (mode 0600). The banner prints a token for
 * the demo user and a curl command that works; `npm run token` mints more; imapflow (`accessToken`, OAUTHBEARER),
 * curl `--oauth2-bearer` and a raw XOAUTH2 exchange log in; the embedded JMAP store takes the same token as Bearer.
 * Tokens signed by another key or expired are refused (RFC 7628 §3.2.2 error challenge, then NO). The key survives
 * a restart. `--dev-issuer=false` and `--tenants` leave it out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { RawClient } from '../helpers/raw-client.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const KEY_FILE = 'dev-issuer-key.json';

interface Started {
  child: ChildProcess;
  imapPort: number;
  imapsPort: number;
  jmapUrl: string;
  output: () => string;
}

async function start(dataDir: string, extra: string[] = []): Promise<Started> {
  const args = ['--import', 'tsx', 'src/node.ts', '--data-dir', dataDir, '--imap-port', '0', '--imaps-port', '0', '--log-level', 'info', '--auth-failure-delay-ms', '100', ...extra];
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!/Stop with Ctrl-C/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    child,
    imapPort: Number(/IMAP \(cleartext \+ STARTTLS\): 127\.0\.0\.1:(\d+)/.exec(out)![1]),
    imapsPort: Number(/IMAPS \(implicit TLS\): +127\.0\.0\.1:(\d+)/.exec(out)![1]),
    jmapUrl: /JMAP backend: +(\S+)/.exec(out)![1]!,
    output: () => out,
  };
}

function stop(s: Started): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null) return resolve();
    s.child.once('exit', () => resolve());
    s.child.kill('SIGTERM');
  });
}

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) =>
    execFile(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr })),
  );
}

/** curl over cleartext IMAP on loopback with `--oauth2-bearer` (curl picks OAUTHBEARER from AUTH=). */
function curlBearer(port: number, token: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('curl', ['-sS', '--max-time', '20', '--oauth2-bearer', token, `imap://demo@127.0.0.1:${port}/INBOX`, '-X', 'UID SEARCH ALL']);
}

const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
const now = (): number => Math.floor(Date.now() / 1000);

/** The same claims as a dev token, signed with `key` (RFC 7519), `exp` seconds from now. */
async function forge(key: CryptoKey, kid: string, exp: number): Promise<string> {
  return new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid, typ: 'JWT' }).setSubject('demo').setIssuer('urn:imap-jmap-gateway:dev-issuer')
    .setAudience('imap-gateway').setIssuedAt(now() - 7200).setExpirationTime(now() + exp).sign(key);
}

/** RFC 7628 §3.2.3: a refused token gets an error challenge, the client answers ^A, the server says NO. */
async function refused(port: number, token: string): Promise<void> {
  const c = await RawClient.connect(port);
  await c.line();
  c.write(`t1 AUTHENTICATE OAUTHBEARER ${b64(`n,a=demo,\x01auth=Bearer ${token}\x01\x01`)}\r\n`);
  const ch = await c.line();
  assert.match(ch, /^\+ /);
  assert.equal(JSON.parse(Buffer.from(ch.slice(2), 'base64').toString()).status, 'invalid_token');
  c.write('AQ==\r\n');
  assert.match(await c.line(), /^t1 NO \[AUTHENTICATIONFAILED\]/);
  c.close();
}

async function capability(port: number): Promise<string> {
  const c = await RawClient.connect(port);
  await c.line();
  const r = await c.command('c', 'CAPABILITY');
  c.close();
  return r.find((l) => l.startsWith('* CAPABILITY '))!;
}

test('npm start: the printed token and curl command work; npm run token mints more; forged and expired tokens are refused; the key survives a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-start-oauth-'));
  let s = await start(dir);
  try {
    const out = s.output();
    const token = /OAUTHBEARER token for "demo", valid 12 h:\s+(\S+)/.exec(out)?.[1];
    assert.ok(token, `the banner prints a token:\n${out}`);
    assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'a compact JWS (RFC 7515 §7.1)');
    assert.ok(token.length < 500, `neomutt refuses tokens over ~500 characters; got ${token.length}`);
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.equal(claims.sub, 'demo');
    assert.ok(Math.abs((claims.exp as number) - now() - 12 * 3600) < 120, 'valid 12 h');

    // The key: a private JWK readable by its owner only.
    const keyPath = join(dir, KEY_FILE);
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    const jwk = JSON.parse(readFileSync(keyPath, 'utf8')) as JWK;

    // The curl command as printed, run as printed.
    const printed = new RegExp(`curl --oauth2-bearer '${token}' 'imap://demo@127\\.0\\.0\\.1:${s.imapPort}/INBOX' -X 'UID SEARCH ALL'`);
    assert.match(out, printed);
    const viaCurl = await curlBearer(s.imapPort, token);
    assert.equal(viaCurl.code, 0, viaCurl.stderr);
    assert.match(viaCurl.stdout, /^\* SEARCH( \d+)+\r?$/m, 'the demo INBOX has messages');

    // imapflow with accessToken, over implicit TLS.
    const client = new ImapFlow({ host: '127.0.0.1', port: s.imapsPort, secure: true, tls: { rejectUnauthorized: false }, logger: false, auth: { user: 'demo', accessToken: token } });
    await client.connect();
    assert.ok((await client.list()).some((b) => b.path === 'INBOX'));
    await client.logout();
    assert.ok(s.output().split('\n').some((l) => /"mechanism":"OAUTHBEARER"/.test(l) && /logged in/.test(l)), 'imapflow logged in with OAUTHBEARER');

    // The embedded JMAP store takes the same token as Bearer (RFC 8620 §2 Session resource), and refuses others.
    assert.equal((await fetch(s.jmapUrl, { headers: { authorization: `Bearer ${token}` } })).status, 200);

    // npm run token: another token, printed alone; XOAUTH2 with it logs in.
    assert.match(out, new RegExp(`npm run -s token -- --user demo --ttl 3600 --data-dir ${dir}`));
    const minted = await run('npm', ['run', '-s', 'token', '--', '--user', 'demo', '--ttl', '600', '--data-dir', dir]);
    assert.equal(minted.code, 0, minted.stderr);
    const token2 = minted.stdout.trim();
    assert.match(token2, /^[\w-]+\.[\w-]+\.[\w-]+$/);
    assert.notEqual(token2, token);
    const exp2 = (JSON.parse(Buffer.from(token2.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp;
    assert.ok(Math.abs(exp2 - now() - 600) < 60, '--ttl 600');
    const c = await RawClient.connect(s.imapPort);
    await c.line();
    assert.match((await c.command('x', `AUTHENTICATE XOAUTH2 ${b64(`user=demo\x01auth=Bearer ${token2}\x01\x01`)}`)).at(-1)!, /^x OK /);
    assert.match((await c.command('y', 'SELECT INBOX')).at(-1)!, /^y OK /);
    c.close();
    // PLAIN still works on the same default tenant.
    const password = /password "([^"]+)"/.exec(out)![1]!;
    const p = await RawClient.connect(s.imapPort);
    await p.line();
    assert.match((await p.command('p', `AUTHENTICATE PLAIN ${b64(`\0demo\0${password}`)}`)).at(-1)!, /^p OK /);
    p.close();

    // Refused: signed by another key under the same kid; expired (beyond the 60 s skew) with the right key.
    const other = await generateKeyPair('ES256');
    const forged = await forge(other.privateKey, jwk.kid!, 3600);
    await refused(s.imapPort, forged);
    assert.equal((await fetch(s.jmapUrl, { headers: { authorization: `Bearer ${forged}` } })).status, 401);
    const expired = await forge((await importJWK(jwk, 'ES256')) as CryptoKey, jwk.kid!, -600);
    await refused(s.imapPort, expired);
    const fresh = await forge((await importJWK(jwk, 'ES256')) as CryptoKey, jwk.kid!, 600);
    assert.equal((await curlBearer(s.imapPort, fresh)).code, 0, 'the same key and claims, not expired: accepted (the test forges correctly)');

    // Restart: same key file, the first token still valid.
    await stop(s);
    s = await start(dir);
    assert.deepEqual(JSON.parse(readFileSync(keyPath, 'utf8')), jwk);
    assert.equal(statSync(keyPath).mode & 0o777, 0o600);
    const again = await curlBearer(s.imapPort, token);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^\* SEARCH( \d+)+\r?$/m);

    // No token in the log lines.
    for (const t of [token, token2]) assert.ok(!s.output().split('\n').filter((l) => l.startsWith('{')).some((l) => l.includes(t)), 'a token reached the log');
  } finally {
    await stop(s);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('npm run token without a key says to start the gateway first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-token-nokey-'));
  try {
    const r = await run('npm', ['run', '-s', 'token', '--', '--user', 'demo', '--data-dir', dir]);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no development issuer key; start the gateway once with `npm start`/);
    assert.ok(!existsSync(join(dir, KEY_FILE)), 'the CLI makes no key of its own');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--dev-issuer=false and --tenants: no dev issuer, no key, no token, no OAUTHBEARER', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-start-nodev-'));
  const tenantsFile = join(dir, 'tenants.json');
  writeFileSync(tenantsFile, JSON.stringify({ defaultTenant: 'corp', tenants: [{ id: 'corp', jmapSessionUrl: 'http://127.0.0.1:9/unused' }] }));
  try {
    for (const [name, extra] of [['off', ['--dev-issuer=false']], ['tenants', ['--tenants', tenantsFile]]] as const) {
      const data = join(dir, name);
      const s = await start(data, [...extra]);
      try {
        assert.doesNotMatch(s.output(), /OAUTHBEARER token|oauth2-bearer|npm run -s token/, name);
        assert.ok(!existsSync(join(data, KEY_FILE)), `${name}: no key file`);
        const cap = await capability(s.imapPort);
        assert.match(cap, / AUTH=PLAIN/, name);
        assert.doesNotMatch(cap, /AUTH=OAUTHBEARER|AUTH=XOAUTH2/, name);
      } finally {
        await stop(s);
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
