/**
 * `npm start -- --do-store-url <Worker> --do-store-token <token> --do-cache`: a Node gateway that keeps UIDs and
 * the immutable-data cache in the Worker's Durable Objects (docs/deployment.md §3) and nothing in its data
 * directory. Two gateway processes one after the other, each with an empty data directory of its own, show the
 * same UIDVALIDITY and UIDs (RFC 9051 §2.3.1.1): the state lives in the objects. OBJECTID is advertised too: the
 * EMAILID a COPY's re-imported copy keeps from its source (RFC 8474 §5.1) is in the account's object as well.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { ALL, SIMPLE } from '../fixtures/messages.ts';
import { startWorkerd, type WorkerdInstance } from './workerd-harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const USER = 'nina@example.test';
const PASS = 'nina password';
const TOKEN = 'node-flags-token';
const dir = mkdtempSync(join(tmpdir(), 'node-do-'));
let store: EmbeddedStore;
let http: { url: string; close(): Promise<void> };
let w: WorkerdInstance;
let accountId: string;
let sentId: string;

before(async () => {
  store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
  ({ accountId } = store.createUser(USER, PASS));
  ALL.forEach((raw) => store.importMessage(USER, 'inbox', raw));
  sentId = store.importMessage(USER, 'sent', SIMPLE).emailId;
  http = await store.listen(0, '127.0.0.1');
  w = await startWorkerd({ vars: { UID_API_TOKEN: TOKEN }, imap: false });
});
after(async () => {
  await w.stop();
  await http.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** `UID u EMAILID (e)` of FETCH lines, in order. */
const emailIds = (lines: string[]): Array<[number, string]> => lines.flatMap((l) => {
  const m = /UID (\d+) EMAILID \(([^)]+)\)/.exec(l);
  return m ? [[Number(m[1]), m[2]!] as [number, string]] : [];
});

/**
 * One gateway process on a fresh data directory: SELECT INBOX and the header FETCH, then `more` on the session
 * (before LOGOUT); returns what it showed and what `more` returned.
 */
async function gatewayRun<T>(dataDir: string, more: (c: RawClient) => Promise<T>): Promise<{ uidValidity: string; uids: string[]; more: T }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts', '--data-dir', dataDir, '--imap-port', '0', '--imaps-port=-1',
    '--jmap-url', `${http.url}/.well-known/jmap`, '--do-store-url', w.httpUrl, '--do-store-token', TOKEN, '--do-cache', 'true',
    '--auth-failure-delay-ms', '0', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  try {
    const deadline = Date.now() + 30_000;
    while (!/127\.0\.0\.1:(\d+)/.test(out) || !/Ctrl-C/.test(out)) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`gateway did not start:\n${out}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const port = Number(/IMAP \(cleartext \+ STARTTLS\): 127\.0\.0\.1:(\d+)/.exec(out)![1]);
    const c = await RawClient.connect(port);
    try {
      await c.line();
      assert.match((await c.command('l', `LOGIN "${USER}" "${PASS}"`)).at(-1)!, /^l OK/);
      const sel = await c.command('s', 'SELECT INBOX');
      const uidValidity = /\[UIDVALIDITY (\d+)\]/.exec(sel.join('\n'))![1]!;
      const f = await c.command('f', 'UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
      assert.match(f.at(-1)!, /^f OK/);
      const uids = f.flatMap((l) => /^\* \d+ FETCH \(.*UID (\d+)/.exec(l)?.slice(1) ?? []);
      const result = await more(c);
      await c.command('o', 'LOGOUT');
      return { uidValidity, uids, more: result };
    } finally {
      c.close();
    }
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

test('Node with --do-store-url/--do-cache: UIDs and cache in the Durable Objects, nothing local; a second gateway sees the same UIDs and EMAILIDs', async () => {
  /** CAPABILITY shows OBJECTID (RFC 8474); SELECT Sent. */
  const sent = async (c: RawClient) => {
    assert.ok((await c.command('c', 'CAPABILITY'))[0]!.split(' ').includes('OBJECTID'), 'OBJECTID is advertised');
    assert.match((await c.command('t', 'SELECT Sent')).at(-1)!, /^t OK/);
  };
  const first = await gatewayRun(join(dir, 'gw1'), async (c) => {
    await sent(c);
    // A COPY into the mailbox the message is in is an import (a new JMAP email) that keeps the source's EMAILID.
    assert.match((await c.command('k', 'UID COPY 1 Sent')).at(-1)!, /^k OK \[COPYUID \d+ 1 2\]/);
  });
  assert.equal(first.uids.length, ALL.length);
  for (const f of ['uidmap.sqlite', 'cache.sqlite']) assert.ok(!existsSync(join(dir, 'gw1', f)), `no local ${f}`);
  const size = await fetch(`${w.httpUrl}/v1/accounts/${encodeURIComponent(`default/${accountId}`)}/cache/size`, { headers: { Authorization: `Bearer ${TOKEN}` } });
  assert.ok(((await size.json()) as { bytes: number }).bytes > 0, 'the header blocks went to the account object');
  const second = await gatewayRun(join(dir, 'gw2'), async (c) => {
    await sent(c);
    return emailIds(await c.command('e', 'UID FETCH 1:* (EMAILID)'));
  });
  assert.deepEqual({ ...second, more: undefined }, first, 'another gateway with an empty data directory: same UIDVALIDITY and UIDs');
  assert.deepEqual(second.more, [[1, sentId], [2, sentId]], 'RFC 8474 §5.1: the copy shows its source\'s EMAILID, kept in the object');
});

test('Node: --do-cache without --do-store-url, or a URL without its token, is a usage error (exit 2)', async () => {
  for (const args of [['--do-cache', 'true'], ['--do-store-url', 'http://127.0.0.1:9']]) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts', '--data-dir', join(dir, 'bad'), ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stderr!.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.once('exit', r));
    assert.equal(code, 2, args.join(' '));
    assert.match(out, /--do-store-url needs --do-store-token/);
  }
});
