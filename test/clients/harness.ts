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
import { accountIdOf, jmap, type TestBed } from '../helpers/gateway.ts';

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

export interface RunResult { code: number | null; stdout: string; stderr: string }

/** Run a program to completion, killed (whole process group) after `timeoutMs`; never throws on a non-zero exit. */
export function run(cmd: string, args: string[], o: { timeoutMs: number; cwd?: string; env?: Record<string, string> }): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('latin1').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('latin1').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
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
export async function jmapEmails(bed: TestBed): Promise<{ emails: JmapEmail[]; boxName: Map<string, string>; boxId: Map<string, string> }> {
  const accountId = await accountIdOf(bed);
  type Box = { id: string; name: string; role: string | null };
  type Raw = { id: string; messageId: string[] | null; mailboxIds: Record<string, true>; keywords: Record<string, true> };
  const [[, boxes]] = await jmap(bed, [['Mailbox/get', { accountId, ids: null, properties: ['name', 'role'] }, 'm']]) as [[string, { list: Box[] }, string]];
  const list: Raw[] = [];
  for (let position = 0; ; position += 500) { // pages within maxObjectsInGet (RFC 8620 §5.5 position/limit)
    const [[, q], [, got]] = await jmap(bed, [
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
export async function serverFolders(bed: TestBed): Promise<Map<string, Map<string, string>>> {
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
export async function jmapSet(bed: TestBed, update: Record<string, Record<string, unknown>>, destroy: string[] = []): Promise<void> {
  const [[name, res]] = await jmap(bed, [['Email/set', { accountId: await accountIdOf(bed), update, destroy }, 's']]) as [[string, Record<string, unknown>, string]];
  assert.equal(name, 'Email/set');
  assert.equal(res.notUpdated, null, JSON.stringify(res.notUpdated));
  assert.equal(res.notDestroyed, null, JSON.stringify(res.notDestroyed));
}
