/**
 * Two real clients on one mailbox (imapflow, which IDLEs between commands, and Python's imaplib, which polls with
 * NOOP): what one does, the other sees (RFC 9051 §7.5.1 untagged updates; RFC 2177 IDLE).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { SIMPLE } from '../fixtures/messages.ts';

let bed: TestBed;
before(async () => {
  bed = await startTestBed({ gateway: { watch: { pollIntervalMs: 200 } } });
  for (let i = 0; i < 3; i++) bed.store.importMessage(bed.user, 'inbox', SIMPLE, { receivedAt: new Date(Date.UTC(2024, 0, 1 + i)) });
});
after(() => bed.close());

/** imaplib session: APPEND a message, flag message 1, delete message 2 and EXPUNGE; prints what it saw. */
const SCRIPT = `
import imaplib, json, sys
m = imaplib.IMAP4('127.0.0.1', int(sys.argv[1])); m.login(sys.argv[2], sys.argv[3]); m.select('INBOX')
m.append('INBOX', None, None, b'From: py@example.org\\r\\nSubject: from imaplib\\r\\n\\r\\nhi\\r\\n')
m.store('1', '+FLAGS', '(\\\\Flagged)')
m.store('2', '+FLAGS', '(\\\\Deleted)')
typ, data = m.expunge()
m.noop()
print(json.dumps({'expunged': [d.decode() for d in data if d]}))
m.logout()
`;

test('imaplib appends, flags and expunges; an idling imapflow client sees EXPUNGE, EXISTS and FLAGS', async () => {
  const watcher = new ImapFlow({ host: bed.host, port: bed.imapPort, secure: false, doSTARTTLS: false, auth: { user: bed.user, pass: bed.password }, logger: false, autoIdleDelay: 200 });
  await watcher.connect();
  await watcher.mailboxOpen('INBOX'); // no lock held: imapflow then IDLEs by itself between commands
  for (const t0 = Date.now(); !watcher.idling && Date.now() - t0 < 5000;) await new Promise((r) => setTimeout(r, 20));
  assert.ok(watcher.idling, 'imapflow is in IDLE');
  const seen: string[] = [];
  watcher.on('exists', (e) => seen.push(`exists ${e.count}`));
  watcher.on('expunge', (e) => seen.push(`expunge ${e.seq}`));
  watcher.on('flags', (e) => seen.push(`flags ${e.seq} ${[...e.flags].sort().join(' ')}`));
  const script = join(bed.dir, 'concurrent.py');
  writeFileSync(script, SCRIPT);
  const out = await new Promise<string>((resolve, reject) =>
    execFile('python3', [script, String(bed.imapPort), bed.user, bed.password], { timeout: 20_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))));
  assert.deepEqual(JSON.parse(out).expunged, ['2']);
  // The append and the expunge reach the idler either in one update (EXPUNGE 2, then EXISTS 3 = 3 - 1 + 1) or in
  // two (EXISTS 4, then EXPUNGE 2): both leave the client with 3 messages (RFC 9051 §7.4.1, §7.5.1).
  const appended = () => seen.indexOf('exists 3') > seen.indexOf('expunge 2')
    || (seen.includes('exists 4') && seen.indexOf('exists 4') < seen.indexOf('expunge 2'));
  const done = () => seen.includes('expunge 2') && appended() && seen.includes('flags 1 \\Flagged');
  for (const t0 = Date.now(); !done() && Date.now() - t0 < 5000;) await new Promise((r) => setTimeout(r, 50));
  assert.ok(seen.includes('expunge 2'), `EXPUNGE of message 2: ${seen.join(', ')}`);
  assert.ok(appended(), `an EXISTS counts the appended message, consistently with the EXPUNGE: ${seen.join(', ')}`);
  assert.ok(seen.includes('flags 1 \\Flagged'), `FLAGS of message 1: ${seen.join(', ')}`);
  assert.ok(!seen.some((x) => /^exists [0-2]$/.test(x)), 'no EXISTS that would shrink the mailbox');
  const uids = (await watcher.fetchAll('1:*', { uid: true })).map((m) => m.uid);
  assert.deepEqual(uids, [1, 3, 4], 'message 2 gone, the appended one has UID 4');
  await watcher.logout();
});
