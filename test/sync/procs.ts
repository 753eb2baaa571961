/**
 * Test helpers for multi-process sync tests: an embedded JMAP store listening in this process, gateway child
 * processes (gateway-child.ts) sharing one SQLite UID store, a logged-in RawClient, and the consistency check
 * between the UID store and the JMAP backend that every crash test ends with.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { RawClient } from '../helpers/raw-client.ts';

export const USER = 'alice@example.test';
export const PASS = 'pw-alice';

export interface Cluster {
  dir: string;
  store: EmbeddedStore;
  jmapUrl: string;
  uidmap: string;
  /** Start one more gateway process on the shared UID store; `failpoint` as in gateway-child.ts. */
  gateway(failpoint?: string): Promise<Gateway>;
  close(): Promise<void>;
}

export interface Gateway {
  port: number;
  child: ChildProcess;
  /** Resolves with the signal when the process ends. */
  exited: Promise<NodeJS.Signals | null>;
  stop(): Promise<void>;
}

export async function startCluster(): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-cluster-'));
  const store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
  store.createUser(USER, PASS);
  const http = await store.listen(0, '127.0.0.1');
  const uidmap = join(dir, 'uidmap.sqlite');
  const children = new Set<Gateway>();
  return {
    dir, store, jmapUrl: http.url, uidmap,
    async gateway(failpoint = '') {
      const child = fork(new URL('./gateway-child.ts', import.meta.url).pathname, [dir, uidmap, `${http.url}/.well-known/jmap`, failpoint], {
        execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      });
      const exited = new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_code, sig) => r(sig)));
      const port = await new Promise<number>((resolve, reject) => {
        child.once('message', (m) => resolve((m as { port: number }).port));
        child.once('exit', () => reject(new Error('gateway child exited before ready')));
      });
      const g: Gateway = {
        port, child, exited,
        async stop() {
          children.delete(g);
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          await exited;
        },
      };
      children.add(g);
      return g;
    },
    async close() {
      await Promise.all([...children].map((g) => g.stop()));
      await http.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A client logged in on `port`. */
export async function login(port: number): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.line();
  const ok = await c.command('l', `LOGIN "${USER}" "${PASS}"`);
  assert.match(ok.at(-1)!, /^l OK/);
  return c;
}

/** Call JMAP as a webmail would. */
export async function jmapCall(cluster: Cluster, methodCalls: unknown[]): Promise<Array<[string, Record<string, unknown>, string]>> {
  const res = await fetch(`${cluster.jmapUrl}/jmap/api`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + btoa(`${USER}:${PASS}`) },
    body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls }),
  });
  return ((await res.json()) as { methodResponses: Array<[string, Record<string, unknown>, string]> }).methodResponses;
}

/** A message with a unique Message-ID. */
export function message(tag: string): string {
  return `From: t@example.org\r\nTo: ${USER}\r\nSubject: ${tag}\r\nMessage-ID: <${tag}@example.org>\r\n\r\nbody ${tag}\r\n`;
}

/** The emails of a mailbox (by role) in JMAP, by id. */
export async function jmapIds(cluster: Cluster, role: string): Promise<Set<string>> {
  return new Set((await jmapQuery(cluster, { inMailbox: await mailboxIdOf(cluster, role) })));
}

/** The JMAP id of the mailbox with `role`. */
export async function mailboxIdOf(cluster: Cluster, role: string): Promise<string> {
  const boxes = first<{ list: Array<{ id: string; role: string | null }> }>(await jmapCall(cluster, [['Mailbox/get', { accountId: await accountId(cluster), ids: null }, 'm']]));
  return boxes.list.find((b) => b.role === role)!.id;
}

/** `Email/query` ids for a filter. */
export async function jmapQuery(cluster: Cluster, filter: Record<string, unknown>): Promise<string[]> {
  return first<{ ids: string[] }>(await jmapCall(cluster, [['Email/query', { accountId: await accountId(cluster), filter, limit: 100000 }, 'q']])).ids;
}

/** The arguments of the first method response. */
export function first<T>(responses: Array<[string, Record<string, unknown>, string]>): T {
  return responses[0]![1] as T;
}

export async function accountId(cluster: Cluster): Promise<string> {
  const res = await fetch(`${cluster.jmapUrl}/.well-known/jmap`, { headers: { Authorization: 'Basic ' + btoa(`${USER}:${PASS}`) } });
  return ((await res.json()) as { primaryAccounts: Record<string, string> }).primaryAccounts['urn:ietf:params:jmap:mail']!;
}

/** Every (uid, emailId) the UID store holds, live and expunged, per mailbox id, with UIDVALIDITY and UIDNEXT. */
export interface MapDump {
  mailboxes: Map<string, { uidValidity: number; uidNext: number; live: Map<number, string>; expunged: Map<number, string> }>;
}

export function dumpMap(path: string): MapDump {
  const mailboxes: MapDump['mailboxes'] = new Map();
  if (!existsSync(path)) return { mailboxes };
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const boxes = db.prepare('SELECT mbox, mailbox_id AS id, uid_validity AS v, uid_next AS n FROM mailbox').all() as Array<{ mbox: number; id: string; v: number; n: number }>;
  for (const b of boxes) {
    const rows = (t: string) => new Map((db.prepare(`SELECT uid, email_id AS e FROM ${t} WHERE mbox = ?`).all(b.mbox) as Array<{ uid: number; e: string }>).map((r) => [r.uid, r.e] as const));
    mailboxes.set(b.id, { uidValidity: b.v, uidNext: b.n, live: rows('uid_map'), expunged: rows('expunged') });
  }
  db.close();
  return { mailboxes };
}

/**
 * The store-level invariants (DESIGN.md rules 1-3): within a mailbox no UID is both live and expunged, every UID is
 * below UIDNEXT, no email id has two live UIDs; against an earlier dump: UIDVALIDITY unchanged, UIDNEXT never
 * lower, and a UID once given to an email id never names another one.
 */
export function checkMapInvariants(now: MapDump, earlier?: MapDump): void {
  for (const [id, b] of now.mailboxes) {
    for (const uid of b.live.keys()) {
      assert.ok(!b.expunged.has(uid), `mailbox ${id}: UID ${uid} is live and expunged`);
      assert.ok(uid < b.uidNext, `mailbox ${id}: UID ${uid} >= UIDNEXT ${b.uidNext}`);
    }
    for (const uid of b.expunged.keys()) assert.ok(uid < b.uidNext, `mailbox ${id}: expunged UID ${uid} >= UIDNEXT`);
    const liveIds = [...b.live.values()];
    assert.equal(new Set(liveIds).size, liveIds.length, `mailbox ${id}: an email id with two live UIDs`);
    const before = earlier?.mailboxes.get(id);
    if (!before) continue;
    assert.equal(b.uidValidity, before.uidValidity, `mailbox ${id}: UIDVALIDITY changed`);
    assert.ok(b.uidNext >= before.uidNext, `mailbox ${id}: UIDNEXT went down`);
    for (const [uid, email] of [...before.live, ...before.expunged]) {
      const nowEmail = b.live.get(uid) ?? b.expunged.get(uid); // undefined only if expunge history was trimmed
      if (nowEmail !== undefined) assert.equal(nowEmail, email, `mailbox ${id}: UID ${uid} was ${email}, now ${String(nowEmail)}`);
    }
  }
}
