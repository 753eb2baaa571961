/**
 * Shared pieces of the real-client suites (mbsync, offlineimap, neomutt, curl): whether a client binary is there,
 * spawning it with a hard timeout, generated messages with unique Message-IDs, and two independent views of the
 * account to compare: the server's through JMAP (as a webmail sees it) and a client's Maildir on disk.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClientBed } from './beds.ts';

/**
 * Whether a client suite may run. Without the binaries: in CI (`CI` set) one failing test (a missing peer is an
 * error there); elsewhere a loud notice and no tests (never skip-as-pass).
 */
export function clientAvailable(suite: string, binaries: string[]): boolean {
  const missing = binaries.filter((b) => spawnSync('sh', ['-c', `command -v ${b}`]).status !== 0);
  if (missing.length === 0) return true;
  if (process.env.CI) test(`${suite}: ${missing.join(', ')} installed (CI)`, () => assert.fail(`missing ${missing.join(', ')}: run npm run peers as root`));
  else process.stderr.write(`\n!!!!!!!! ${missing.join(', ')} not installed: client suite ${suite} NOT RUN (npm run peers) !!!!!!!!\n\n`);
  return false;
}

export interface RunResult { code: number | null; stdout: string; stderr: string; /** Killed at the timeout (only with `timeoutOk`). */ timedOut?: boolean }

/**
 * Run a program to completion, killed (whole process group) after `timeoutMs`, which is an error unless `timeoutOk`
 * (then the result says `timedOut`: for a client known to hang); never throws on a non-zero exit.
 */
export function run(cmd: string, args: string[], o: { timeoutMs: number; timeoutOk?: boolean; cwd?: string; env?: Record<string, string> }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('latin1').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
      if (o.timeoutOk) { child.removeAllListeners('close'); child.on('close', () => resolve({ code: null, stdout, stderr, timedOut: true })); return; }
      reject(new Error(`${cmd} timed out after ${o.timeoutMs} ms\nstdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`));
    }, o.timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

/** A small RFC 5322 message with a unique Message-ID `<tag.i@clients.test>`; some multipart, some 8-bit UTF-8. */
export function makeMessage(tag: string, i: number, subject = `${tag} message ${i}`): Uint8Array {
  const id = `<${tag}.${i}@clients.test>`;
  const date = new Date(Date.UTC(2024, 0, 1) + i * 60_000).toUTCString().replace('GMT', '+0000');
  const head = [`From: Sender ${i % 7} <sender${i % 7}@example.test>`, 'To: alice@example.test', `Subject: ${subject}`, `Date: ${date}`, `Message-ID: ${id}`, 'MIME-Version: 1.0'];
  const body = i % 5 === 0
    ? [...head, 'Content-Type: multipart/alternative; boundary="b"', '', '--b', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', `Body of ${tag} ${i}: caf\u00e9`, '--b', 'Content-Type: text/html; charset=utf-8', '', `<p>Body of ${tag} ${i}</p>`, '--b--', '']
    : [...head, 'Content-Type: text/plain; charset=us-ascii', '', `Body of ${tag} ${i}.`, 'Second line.', ''];
  return new TextEncoder().encode(body.join('\r\n'));
}

/** The Message-ID header of a raw message (first occurrence, unfolded), or undefined. */
export function messageIdOf(raw: string): string | undefined {
  const head = raw.split(/\r?\n\r?\n/, 1)[0]!.replace(/\r?\n[ \t]+/g, ' ');
  return /^message-id:\s*(<[^>]*>)/im.exec(head)?.[1];
}

export interface JmapEmail { id: string; messageId: string; mailboxIds: Record<string, true>; keywords: Record<string, true> }

/** Every Email of the test account with its Message-ID, mailboxes and keywords, and the mailbox id <-> name map. */
export async function jmapEmails(bed: ClientBed): Promise<{ emails: JmapEmail[]; boxName: Map<string, string>; boxId: Map<string, string> }> {
  const accountId = bed.accountId;
  type Box = { id: string; name: string; role: string | null };
  type Raw = { id: string; messageId: string[] | null; mailboxIds: Record<string, true>; keywords: Record<string, true> };
  const [[, boxes]] = await bed.jmap([['Mailbox/get', { accountId, ids: null, properties: ['name', 'role'] }, 'm']]) as [[string, { list: Box[] }, string]];
  const list: Raw[] = [];
  for (let position = 0; ; position += 500) { // pages within maxObjectsInGet (RFC 8620 §5.5 position/limit)
    const [[, q], [, got]] = await bed.jmap([
      ['Email/query', { accountId, position, limit: 500 }, 'q'],
      ['Email/get', { accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['messageId', 'mailboxIds', 'keywords'] }, 'g'],
    ]) as [[string, { ids: string[] }, string], [string, { list: Raw[] }, string]];
    assert.equal(got.list.length, q.ids.length);
    list.push(...got.list);
    if (q.ids.length < 500) break;
  }
  const got = { list };
  const boxName = new Map(boxes.list.map((b) => [b.id, b.role === 'inbox' ? 'INBOX' : b.name]));
  const boxId = new Map([...boxName].map(([id, name]) => [name, id]));
  return { emails: got.list.map((e) => ({ id: e.id, messageId: `<${e.messageId?.[0] ?? ''}>`, mailboxIds: e.mailboxIds, keywords: e.keywords })), boxName, boxId };
}

/** Server truth per mailbox name: Message-ID -> sorted IMAP flags (the four system flags a Maildir can hold). */
export async function serverFolders(bed: ClientBed): Promise<Map<string, Map<string, string>>> {
  const { emails, boxName } = await jmapEmails(bed);
  const out = new Map<string, Map<string, string>>([...boxName.values()].map((n) => [n, new Map()]));
  for (const e of emails) {
    const flags = Object.keys(e.keywords).map((k) => KEYWORD_MAILDIR[k]).filter(Boolean).sort().join('');
    for (const id of Object.keys(e.mailboxIds)) out.get(boxName.get(id)!)!.set(e.messageId, flags);
  }
  return out;
}

/** JMAP keyword -> Maildir info letter (https://cr.yp.to/proto/maildir.html: D draft, F flagged, R replied, S seen). */
export const KEYWORD_MAILDIR: Record<string, string> = { $draft: 'D', $flagged: 'F', $answered: 'R', $seen: 'S' };

/** A Maildir folder (cur/ + new/): Message-ID -> sorted flag letters from each file name's `:2,` info. */
export function readMaildir(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const sub of ['cur', 'new']) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) {
      const id = messageIdOf(readFileSync(join(d, name), 'latin1'));
      assert.ok(id, `${d}/${name} has a Message-ID`);
      assert.ok(!out.has(id), `${id} appears twice in ${dir}`);
      const info = /:2,([A-Za-z]*)$/.exec(name)?.[1] ?? '';
      out.set(id, [...info].filter((c) => 'DFRS'.includes(c)).sort().join(''));
    }
  }
  return out;
}

/** Path of a message file in a Maildir folder by Message-ID. */
export function maildirFile(dir: string, messageId: string): string {
  for (const sub of ['cur', 'new']) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const name of readdirSync(d)) if (messageIdOf(readFileSync(join(d, name), 'latin1')) === messageId) return join(d, name);
  }
  throw new Error(`${messageId} not in ${dir}`);
}

/** Apply JMAP changes as a webmail would: one Email/set with updates and destroys. */
export async function jmapSet(bed: ClientBed, update: Record<string, Record<string, unknown>>, destroy: string[] = []): Promise<void> {
  const [[name, res]] = await bed.jmap([['Email/set', { accountId: bed.accountId, update, destroy }, 's']]) as [[string, Record<string, unknown>, string]];
  assert.equal(name, 'Email/set');
  assert.deepEqual(res.notUpdated ?? {}, {}, JSON.stringify(res.notUpdated)); // RFC 8620 §5.3: null when none (Cyrus: {})
  assert.deepEqual(res.notDestroyed ?? {}, {}, JSON.stringify(res.notDestroyed));
}

/** A terminal program driven in a private tmux server (own socket, HOME = `home`), as a person at a keyboard would. */
export interface Tmux {
  /** `tmux <args>` on the private server. */
  tmux(...args: string[]): Promise<RunResult>;
  /** Start `command` in a detached 160x40 session `name`. */
  start(command: string): Promise<void>;
  /** Send keys (tmux send-keys names: `Enter`, `C-u`, ...). */
  keys(...keys: string[]): Promise<void>;
  /** The screen now. */
  pane(): Promise<string>;
  /** Poll the screen until `ok` holds; fail with the screen after `ms`. */
  waitFor(what: string, ok: (screen: string) => boolean, ms?: number): Promise<string>;
  /** Wait for the session to end (the program quit). */
  waitForExit(ms?: number): Promise<void>;
  /** Kill the tmux server. */
  close(): Promise<void>;
}

export function tmuxDriver(home: string, name: string): Tmux {
  const socket = `gw-test-${process.pid}-${name}`;
  const tmux = (...args: string[]) => run('tmux', ['-L', socket, '-f', '/dev/null', ...args], { timeoutMs: 10_000, env: { HOME: home } });
  const pane = async (): Promise<string> => (await tmux('capture-pane', '-p', '-t', name)).stdout;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return {
    tmux, pane,
    async start(command) {
      const r = await tmux('new-session', '-d', '-s', name, '-x', '160', '-y', '40', command);
      assert.equal(r.code, 0, r.stderr);
    },
    async keys(...keys) { await tmux('send-keys', '-t', name, ...keys); },
    async waitFor(what, ok, ms = 15_000) {
      const deadline = Date.now() + ms;
      let screen = '';
      while (Date.now() < deadline) {
        screen = await pane();
        if (ok(screen)) return screen;
        await sleep(150);
      }
      assert.fail(`${name}: ${what} did not show within ${ms} ms; screen:\n${screen}`);
    },
    async waitForExit(ms = 10_000) {
      const deadline = Date.now() + ms;
      while ((await tmux('has-session', '-t', name)).code === 0) {
        if (Date.now() > deadline) assert.fail(`${name} did not quit; screen:\n${await pane()}`);
        await sleep(150);
      }
    },
    async close() { await tmux('kill-server').catch(() => undefined); },
  };
}
