/**
 * OAuth logins end to end (issue 5): imapflow with `accessToken`, Python imaplib XOAUTH2 and OAUTHBEARER, curl
 * `--oauth2-bearer`, and the RFC 7628 failure exchange byte by byte. The gateway verifies the JWT against the
 * issuer's JWKS and forwards it to the JMAP store as `Authorization: Bearer`; the store checks it again.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { ImapFlow } from 'imapflow';
import { RawClient } from '../helpers/raw-client.ts';
import { startOAuthBed, type OAuthBed } from '../helpers/oauth.ts';

const PY = new URL('./auth_oauth_client.py', import.meta.url).pathname;
const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');
const unb64 = (s: string): string => Buffer.from(s, 'base64').toString('latin1');
let bed: OAuthBed;
const secrets: string[] = [];

before(async () => {
  bed = await startOAuthBed();
});
after(() => bed.close());

async function token(claims?: Record<string, unknown>, o?: Parameters<OAuthBed['token']>[1]): Promise<string> {
  const t = await bed.token(claims, o);
  secrets.push(t, t.split('.')[2]!);
  return t;
}

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 20_000 }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out))));
}

test('OAUTHBEARER and XOAUTH2 are advertised next to PLAIN and LOGIN', async () => {
  const c = await RawClient.connect(bed.imapPort);
  const greeting = await c.line();
  for (const m of ['AUTH=PLAIN', 'AUTH=LOGIN', 'AUTH=OAUTHBEARER', 'AUTH=XOAUTH2', 'SASL-IR']) assert.match(greeting, new RegExp(` ${m}[ \\]]`));
  c.close();
});

test('imapflow with accessToken logs in over TLS (OAUTHBEARER) and reads the mailbox list', async () => {
  const client = new ImapFlow({
    host: '127.0.0.1', port: bed.imapsPort, secure: true, tls: { rejectUnauthorized: false }, logger: false,
    auth: { user: bed.user, accessToken: await token() },
  });
  await client.connect();
  const boxes = await client.list();
  assert.ok(boxes.some((b) => b.path === 'INBOX'));
  await client.logout();
  assert.ok(bed.logs.some((l) => /"mechanism":"OAUTHBEARER"/.test(l) && /logged in/.test(l)), 'imapflow chose OAUTHBEARER');
});

for (const mech of ['XOAUTH2', 'OAUTHBEARER']) {
  test(`Python imaplib AUTHENTICATE ${mech}: a good token logs in, an expired one gets the error challenge and NO`, async () => {
    const ok = JSON.parse(await run('python3', [PY, mech, '127.0.0.1', String(bed.imapPort), bed.user, await token()]));
    assert.equal(ok.auth, 'OK');
    assert.ok(ok.mailboxes >= 6);
    const bad = JSON.parse(await run('python3', [PY, mech, '127.0.0.1', String(bed.imapPort), bed.user, await token(undefined, { exp: -3600 })]));
    assert.equal(bad.auth, 'NO');
    assert.match(bad.error, /AUTHENTICATIONFAILED/);
    const challenge = JSON.parse(bad.challenges[0]);
    assert.equal(challenge.status, mech === 'XOAUTH2' ? '401' : 'invalid_token');
    assert.equal(challenge.scope, 'mail');
  });
}

test('curl --oauth2-bearer lists the mailboxes', async () => {
  const out = await run('curl', ['-sS', '--max-time', '15', `imap://127.0.0.1:${bed.imapPort}/`, '-u', `${bed.user}:`, '--oauth2-bearer', await token()]);
  assert.match(out, /\* LIST \(.*\) "\/" INBOX/);
});

test('RFC 7628 §4.3 failure exchange: error challenge, dummy ^A reply, NO [AUTHENTICATIONFAILED]; * cancels with BAD', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  const forged = `${(await token()).slice(0, -4)}AAAA`;
  c.write(`t1 AUTHENTICATE OAUTHBEARER ${b64(`n,a=${bed.user},\x01host=127.0.0.1\x01port=143\x01auth=Bearer ${forged}\x01\x01`)}\r\n`);
  const ch = await c.line();
  assert.match(ch, /^\+ /);
  assert.deepEqual(JSON.parse(unb64(ch.slice(2))), {
    status: 'invalid_token', scope: 'mail', 'openid-configuration': 'https://id.example.test/.well-known/openid-configuration',
  });
  c.write('AQ==\r\n');
  assert.match(await c.line(), /^t1 NO \[AUTHENTICATIONFAILED\]/);
  // The scope query of RFC 7628 §4.3 (empty auth=), then cancel.
  c.write(`t2 AUTHENTICATE OAUTHBEARER ${b64(`n,a=${bed.user},\x01auth=\x01\x01`)}\r\n`);
  assert.match(await c.line(), /^\+ ey/);
  c.write('*\r\n');
  assert.match(await c.line(), /^t2 BAD /);
  // Without SASL-IR: an empty challenge first.
  c.write('t3 AUTHENTICATE XOAUTH2\r\n');
  assert.equal(await c.line(), '+ ');
  c.write(`${b64(`user=${bed.user}\x01auth=Bearer ${await token()}\x01\x01`)}\r\n`);
  assert.match(await c.line(), /^t3 OK \[CAPABILITY /);
  c.close();
});

test('a token for another user than the OAUTHBEARER a= authzid is refused', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  const t = await token({ email: 'mallory@example.test' });
  const r = await c.command('t1', `AUTHENTICATE OAUTHBEARER ${b64(`n,a=${bed.user},\x01auth=Bearer ${t}\x01\x01`)}`);
  assert.match(r.at(-1)!, /^t1 NO \[AUTHORIZATIONFAILED\]/);
  const r2 = await c.command('t2', 'SELECT INBOX');
  assert.match(r2.at(-1)!, /^t2 BAD /, 'still not authenticated');
  c.close();
});

test('malformed bearer messages are BAD; PLAIN still works on the same tenant', async () => {
  const c = await RawClient.connect(bed.imapPort);
  await c.line();
  assert.match((await c.command('t1', `AUTHENTICATE OAUTHBEARER ${b64('p=tls-unique,,\x01auth=Bearer x\x01\x01')}`)).at(-1)!, /^t1 BAD /);
  assert.match((await c.command('t2', `AUTHENTICATE XOAUTH2 ${b64('auth=Bearer x\x01\x01')}`)).at(-1)!, /^t2 BAD /);
  c.close();
  const d = await RawClient.connect(bed.imapPort);
  await d.line();
  assert.match((await d.command('p', `AUTHENTICATE PLAIN ${b64(`\0${bed.user}\0${bed.password}`)}`)).at(-1)!, /^p OK /);
  d.close();
});

test('no token and no password in any log line, and every login and failure has its audit line', () => {
  const all = bed.logs.join('\n');
  assert.ok(secrets.length > 10);
  for (const s of [...secrets, bed.password]) assert.ok(!all.includes(s), 'a secret reached the log');
  assert.ok(bed.logs.some((l) => /logged in/.test(l)) && bed.logs.some((l) => /login failed/.test(l)), 'the audit lines are there');
});
