/**
 * What `npm start` gives a person: the gateway on the embedded store with the demo account, connection details
 * printed, readable with curl (a real IMAP client, RFC 5092 URLs); SIGTERM says BYE to clients and exits cleanly;
 * a restart keeps the same UIDs and UIDVALIDITY (UIDs are persisted, RFC 9051 §2.3.1.1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient } from '../helpers/raw-client.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

interface Started {
  child: ChildProcess;
  imapPort: number;
  imapsPort: number;
  user: string;
  password: string;
  output: () => string;
}

async function start(dataDir: string): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts', '--data-dir', dataDir, '--imap-port', '0', '--imaps-port', '0', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!/Stop with Ctrl-C/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const imapPort = Number(/IMAP \(cleartext \+ STARTTLS\): 127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const imapsPort = Number(/IMAPS \(implicit TLS\): +127\.0\.0\.1:(\d+)/.exec(out)![1]);
  const [, user, password] = /Demo account: +user "([^"]+)" +password "([^"]+)"/.exec(out)!;
  return { child, imapPort, imapsPort, user: user!, password: password!, output: () => out };
}

function curl(args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('curl', ['-sS', '--max-time', '20', ...args], { encoding: 'latin1' }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

function stop(s: Started): Promise<number | null> {
  return new Promise((resolve) => {
    s.child.once('exit', (code) => resolve(code));
    s.child.kill('SIGTERM');
  });
}

test('npm start: demo account readable with curl over IMAP and IMAPS; SIGTERM sends BYE; restart keeps UIDs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-start-'));
  try {
    let s = await start(dir);
    assert.match(s.output(), /curl 'imap:\/\/127\.0\.0\.1:\d+\/INBOX;UID=1' -u /);
    const list = await curl([`imap://127.0.0.1:${s.imapPort}/`, '-u', `${s.user}:${s.password}`]);
    for (const name of ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk', 'Archive']) assert.match(list, new RegExp(`"/" ${name}\\r?\\n`));
    const msg = await curl([`imap://127.0.0.1:${s.imapPort}/INBOX;UID=1`, '-u', `${s.user}:${s.password}`]);
    assert.match(msg, /^From: .+\r\n/m);
    assert.match(msg, /^Subject: .+\r\n/m);
    const flags = await curl(['-k', `imaps://127.0.0.1:${s.imapsPort}/INBOX`, '-u', `${s.user}:${s.password}`, '-X', 'FETCH 1:* FLAGS']);
    assert.match(flags, /^\* 1 FETCH \(FLAGS \(/m, 'curl over implicit TLS');
    const fetchUids = async (port: number): Promise<string> => {
      const c = await RawClient.connect(port, { tls: true });
      await c.line();
      await c.command('a', `LOGIN "${s.user}" "${s.password}"`);
      const sel = await c.command('b', 'EXAMINE INBOX');
      const uids = await c.command('c', 'FETCH 1:* UID');
      c.close();
      return [sel.find((l) => l.includes('UIDVALIDITY'))!, ...uids.filter((l) => l.startsWith('* '))].join('\n');
    };
    const before = await fetchUids(s.imapsPort);
    const idle = await RawClient.connect(s.imapPort);
    await idle.line();
    assert.equal(await stop(s), 0, 'clean exit on SIGTERM');
    assert.match(await idle.line(), /^\* BYE /, 'a connected client is told BYE');
    s = await start(dir);
    assert.equal(await fetchUids(s.imapsPort), before, 'same UIDVALIDITY and UIDs after a restart');
    assert.equal(await stop(s), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
