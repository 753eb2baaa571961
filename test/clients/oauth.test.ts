/**
 * Real clients logging in with OAuth 2.0 bearer tokens over TLS (issue 5 "Must show"): neomutt with OAUTHBEARER
 * (RFC 7628) and with XOAUTH2, both driven in tmux over implicit TLS (neomutt offers them only over TLS, with SASL-IR);
 * mbsync with XOAUTH2 (cyrus-sasl's KDE xoauth2 plugin, `PassCmd` printing the token); offlineimap with XOAUTH2
 * (`oauth2_access_token`). The gateway's tenant checks the JWT with jose against a test issuer's JWKS
 * (test/helpers/oauth.ts) and forwards it to the embedded store as `Authorization: Bearer`. Each client must log in
 * with a valid token and read or sync mail, checked through JMAP; the same client with an expired token must be
 * refused, and must not have read anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOAuthBed, type OAuthBed } from '../helpers/oauth.ts';
import type { ClientBed, MethodResponse } from './beds.ts';
import { clientAvailable, jmapEmails, makeMessage, readMaildir, run, serverFolders, tmuxDriver } from './harness.ts';

/** The OAuth bed seen as a client bed (the JMAP checks go to the store with HTTP Basic, as a webmail would). */
async function clientView(o: OAuthBed): Promise<ClientBed> {
  const auth = 'Basic ' + btoa(`${o.user}:${o.password}`);
  const session = await (await fetch(`${o.jmapUrl}/.well-known/jmap`, { headers: { Authorization: auth } })).json() as { primaryAccounts: Record<string, string> };
  return {
    backend: 'embedded', imapPort: o.imapPort, imapsPort: o.imapsPort, certPath: o.gateway.tls.certPath,
    user: o.user, password: o.password, accountId: session.primaryAccounts['urn:ietf:params:jmap:mail']!,
    async seed(mailbox, raws, keywords) { raws.forEach((raw, i) => o.store.importMessage(o.user, mailbox, raw, { keywords: keywords?.(i) ?? [] })); },
    async jmap(methodCalls) {
      const res = await fetch(`${o.jmapUrl}/jmap/api`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', Authorization: auth },
        body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls }),
      });
      return ((await res.json()) as { methodResponses: MethodResponse[] }).methodResponses;
    },
    download: () => Promise.reject(new Error('not used by the OAuth suites')),
    close: () => o.close(),
  };
}

/** The gateway's audit lines for logins and failures (JSON log lines; no token is ever in them, test/e2e/auth-oauth). */
function audit(o: OAuthBed, what: 'logged in' | 'login failed', mechanism: string): string[] {
  return o.logs.filter((l) => l.includes(`"mechanism":"${mechanism}"`) && l.includes(what));
}

/** An expired but otherwise valid token (RFC 7519 §4.1.4 `exp` in the past, beyond the allowed clock skew). */
const expired = (o: OAuthBed) => o.token(undefined, { exp: -3600 });

if (clientAvailable('neomutt OAuth', ['neomutt', 'tmux'])) {
  for (const mech of ['OAUTHBEARER', 'XOAUTH2']) {
    test(`neomutt in tmux, ${mech} over TLS: a valid token opens INBOX and reads a message; an expired one is refused`, { timeout: 60_000 }, async () => {
      // neomutt 20220429 refuses, on its own side, to send an OAUTHBEARER response for a 551-character RS256 JWT
      // ("OAUTH token is too big" in its debug log; nothing reaches the server): that issuer signs with ES256
      // (~300 characters). XOAUTH2 carries the RS256 token fine.
      const o = await startOAuthBed(mech === 'OAUTHBEARER' ? { alg: 'ES256' } : {});
      const bed = await clientView(o);
      const dir = mkdtempSync(join(tmpdir(), 'neomutt-oauth-'));
      const t = tmuxDriver(dir, 'mutt');
      const muttrc = (token: string) => `set imap_user = "${o.user}"
set imap_authenticators = "${mech.toLowerCase()}"
set imap_oauth_refresh_command = "echo ${token}"
set folder = "imaps://127.0.0.1:${o.imapsPort}/"
set spoolfile = "+INBOX"
set certificate_file = "${dir}/certificates"
set ssl_verify_host = yes
set header_cache = ""
set message_cachedir = ""
set sort = date
set mark_old = no
set wait_key = no
set quit = yes
set imap_check_subscribed = no
set mail_check = 60
set timeout = 60
`;
      try {
        await bed.seed('INBOX', Array.from({ length: 5 }, (_, i) => makeMessage('oauth', i, `OAuth subject ${i}`)));
        copyFileSync(bed.certPath, join(dir, 'certificates'));

        // An expired token: refused, no index, nothing read; the gateway logs the failure for this mechanism.
        writeFileSync(join(dir, 'bad'), muttrc(await expired(o)));
        await t.start(`neomutt -n -F ${dir}/bad`);
        const refused = await t.waitFor('the refusal', (s) => /authentication failed|login failed|Unable to open mailbox/i.test(s));
        assert.doesNotMatch(refused, /OAuth subject/, 'no message listed without a valid token');
        assert.ok(audit(o, 'login failed', mech).length > 0, `the gateway logged a ${mech} failure\n${o.logs.join('\n')}`);
        assert.equal(audit(o, 'logged in', mech).length, 0);
        await t.close();

        // A valid token: the index lists the messages; the third opens in the pager; JMAP then shows it \Seen.
        writeFileSync(join(dir, 'good'), muttrc(await o.token()));
        await t.start(`neomutt -n -F ${dir}/good`);
        const index = await t.waitFor('the INBOX index', (s) => /Msgs:5\b/.test(s));
        assert.deepEqual(index.split('\n').filter((l) => /OAuth subject \d/.test(l)).map((l) => /OAuth subject (\d)/.exec(l)![1]), ['0', '1', '2', '3', '4']);
        await t.keys('3', 'Enter');
        await t.keys('Enter');
        const pager = await t.waitFor('the pager', (s) => s.includes('Body of oauth 2.'));
        assert.match(pager, /^Subject: OAuth subject 2$/m);
        assert.ok(audit(o, 'logged in', mech).length > 0, `the gateway logged a ${mech} login`);
        await t.keys('i');
        await t.keys('q');
        await t.waitForExit();
        const read = (await jmapEmails(bed)).emails.find((e) => e.messageId === '<oauth.2@clients.test>')!;
        assert.deepEqual(Object.keys(read.keywords), ['$seen'], 'reading the message set $seen in the store');
      } finally {
        await t.close();
        rmSync(dir, { recursive: true, force: true });
        await bed.close();
      }
    });
  }
}

if (clientAvailable('mbsync OAuth', ['mbsync'])) {
  test('mbsync XOAUTH2 over TLS: a valid token syncs INBOX and Archive into a Maildir; an expired one is refused', { timeout: 60_000 }, async () => {
    const o = await startOAuthBed();
    const bed = await clientView(o);
    const dir = mkdtempSync(join(tmpdir(), 'mbsync-oauth-'));
    const config = (token: string) => `IMAPAccount gw
Host 127.0.0.1
Port ${o.imapsPort}
User ${o.user}
PassCmd "echo ${token}"
SSLType IMAPS
CertificateFile ${bed.certPath}
AuthMechs XOAUTH2

IMAPStore gw-far
Account gw

MaildirStore gw-near
Path ${dir}/mail/
Inbox ${dir}/mail/INBOX
SubFolders Verbatim

Channel gw
Far :gw-far:
Near :gw-near:
Patterns INBOX Archive
Create Near
SyncState *
`;
    const sync = (name: string, timeoutOk = false) => run('mbsync', ['-c', join(dir, name), '-a'], { timeoutMs: timeoutOk ? 5_000 : 30_000, timeoutOk });
    try {
      mkdirSync(join(dir, 'mail'));
      await bed.seed('INBOX', Array.from({ length: 40 }, (_, i) => makeMessage('mbo', i)), (i) => (i % 4 === 0 ? ['$seen'] : []));
      await bed.seed('Archive', Array.from({ length: 5 }, (_, i) => makeMessage('mboa', i)), () => ['$flagged']);

      writeFileSync(join(dir, 'bad'), config(await expired(o)));
      // The gateway answers with XOAUTH2's error challenge (`+ base64 {"status":"401",...}`, as Google's XOAUTH2
      // protocol describes) and waits for the client's empty reply; isync 1.4.4's SASL step calls that "IMAP wants
      // more steps despite successful SASL authentication" and then hangs instead of answering (a client bug): it is
      // killed after 5 s.
      const bad = await sync('bad', true);
      assert.ok(bad.code !== 0, 'mbsync does not succeed with an expired token');
      assert.match(bad.stderr, /IMAP wants more steps|auth|login/i, `mbsync says why\n${bad.stderr}`);
      assert.ok(!existsSync(join(dir, 'mail', 'INBOX', 'cur')) || readdirSync(join(dir, 'mail', 'INBOX', 'cur')).length === 0, 'nothing synced');
      assert.ok(audit(o, 'login failed', 'XOAUTH2').length > 0, `the gateway logged an XOAUTH2 failure\n${bad.stderr}\n${o.logs.join('\n')}`);

      writeFileSync(join(dir, 'good'), config(await o.token()));
      const good = await sync('good');
      assert.equal(good.code, 0, `mbsync exit status\n${good.stderr.slice(-3000)}`);
      assert.ok(audit(o, 'logged in', 'XOAUTH2').length > 0, 'the gateway logged an XOAUTH2 login');
      const server = await serverFolders(bed);
      for (const f of ['INBOX', 'Archive']) assert.deepEqual([...readMaildir(join(dir, 'mail', f))].sort(), [...server.get(f)!].sort(), `${f} (Message-ID, flags) match the server`);
      assert.equal(server.get('INBOX')!.size, 40);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await bed.close();
    }
  });
}

if (clientAvailable('offlineimap OAuth', ['offlineimap'])) {
  test('offlineimap XOAUTH2 over TLS: a valid token syncs the account into a Maildir; an expired one is refused', { timeout: 60_000 }, async () => {
    const o = await startOAuthBed();
    const bed = await clientView(o);
    const dir = mkdtempSync(join(tmpdir(), 'offlineimap-oauth-'));
    // offlineimap checks the certificate's DNS names itself (not its IP addresses): connect as "localhost".
    const config = (token: string, meta: string) => `[general]
accounts = gw
metadata = ${dir}/${meta}
ui = basic
[Account gw]
localrepository = near
remoterepository = far
[Repository near]
type = Maildir
localfolders = ${dir}/mail-${meta}
[Repository far]
type = IMAP
remotehost = localhost
remoteport = ${o.imapsPort}
ssl = yes
sslcacertfile = ${bed.certPath}
remoteuser = ${o.user}
oauth2_access_token = ${token}
auth_mechanisms = XOAUTH2
folderfilter = lambda f: f in ['INBOX', 'Archive']
`;
    const sync = (name: string) => run('offlineimap', ['-c', join(dir, `${name}.rc`), '-o', '-u', 'basic'], { timeoutMs: 45_000 });
    try {
      await bed.seed('INBOX', Array.from({ length: 40 }, (_, i) => makeMessage('olo', i)), (i) => (i % 3 === 0 ? ['$seen', '$answered'] : []));
      await bed.seed('Archive', Array.from({ length: 5 }, (_, i) => makeMessage('oloa', i)));

      writeFileSync(join(dir, 'bad.rc'), config(await expired(o), 'bad'));
      const bad = await sync('bad');
      const badOut = bad.stdout + bad.stderr;
      assert.ok(bad.code !== 0 || /ERROR/.test(badOut), `offlineimap reports the refusal\n${badOut.slice(-2000)}`);
      assert.doesNotMatch(badOut, /Copy message/, 'nothing copied');
      assert.ok(audit(o, 'login failed', 'XOAUTH2').length > 0, `the gateway logged an XOAUTH2 failure\n${badOut.slice(-2000)}\n${o.logs.join('\n')}`);

      writeFileSync(join(dir, 'good.rc'), config(await o.token(), 'good'));
      const good = await sync('good');
      const out = good.stdout + good.stderr;
      assert.equal(good.code, 0, `offlineimap exit status\n${out.slice(-3000)}`);
      assert.doesNotMatch(out, /ERROR|Traceback/, out.slice(-3000));
      assert.ok(audit(o, 'logged in', 'XOAUTH2').length > 0, 'the gateway logged an XOAUTH2 login');
      const server = await serverFolders(bed);
      for (const f of ['INBOX', 'Archive']) assert.deepEqual([...readMaildir(join(dir, 'mail-good', f))].sort(), [...server.get(f)!].sort(), `${f} (Message-ID, flags) match the server`);
      assert.equal(server.get('INBOX')!.size, 40);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await bed.close();
    }
  });
}
