/**
 * What a scenario measures against: an IMAP server on a loopback port with one user whose INBOX holds the corpus.
 * `gateway` = this project (child process) over the embedded JMAP store (another child process, counted);
 * `dovecot` = a private Dovecot (bench/dovecot.ts) over a Maildir of the same messages.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { JmapCounters } from './store-child.ts';
import type { CorpusSpec } from './corpus.ts';
import { ImapClient } from './imap-client.ts';
import { GATEWAY_NODE_FLAGS } from '../src/config/node-flags.ts';

export type TargetName = 'gateway' | 'dovecot' | 'cyrus';
export const BENCH_USER = 'bench@example.test';
export const BENCH_PASSWORD = 'bench-password';
/** INTERNALDATE of message i = this + i seconds, in both servers. */
export const RECEIVED_BASE_MS = Date.UTC(2024, 0, 1);

export interface Memory { rssKB: number; peakKB: number }

/** A JMAP account (RFC 8620 §2 session URL + Basic credentials): what the gateway target serves, timed directly. */
export interface JmapAccount { sessionUrl: string; user: string; password: string }

export interface Target {
  name: TargetName;
  port: number;
  /** After this, the next session is the first to see the mailbox (gateway: new process, empty UID store). */
  makeCold(): Promise<void>;
  /** JMAP traffic so far (gateway only). */
  jmap?(): Promise<JmapCounters>;
  /** The server process's resident memory (gateway only; Dovecot runs a process per connection). */
  memory?(): Memory | null;
  /** Proportional set size (KB, /proc/PID/smaps_rollup Pss) summed over every process of the server. */
  pssKB?(): number;
  /** Who logs in (default BENCH_USER / BENCH_PASSWORD). */
  login?: { user: string; password: string };
  /** A port of the same gateway process whose SEARCH TEXT/BODY is in index mode (gateway over the embedded store). */
  indexPort?: number;
  /** Implicit-TLS port (gateway only). */
  tlsPort?: number;
  /** The JMAP account behind the gateway (for the JMAP floor and JMAP-side changes). */
  jmapAccount?: JmapAccount;
  /** The files the gateway keeps per account on disk: UID map and message cache (SQLite). */
  files?(): { uidmap: string; cache: string };
  close(): Promise<void>;
}

const ROOT = new URL('..', import.meta.url).pathname;

/** Forks a bench child under tsx and waits for its `{ready}` message. */
function forkChild<T>(file: string, args: string[]): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(join(ROOT, 'bench', file), args, {
    // The gateway runs with the V8 flags of `npm start` (src/config/node-flags.ts), so it is measured as users run it.
    cwd: ROOT, execArgv: ['--import', 'tsx', ...(file === 'gateway-child.ts' ? GATEWAY_NODE_FLAGS : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
    child.on('message', function first(m: unknown) {
      if ((m as { ready?: boolean }).ready) {
        child.off('message', first);
        child.removeAllListeners('exit');
        resolve({ child, ready: m as T });
      }
    });
  });
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** VmRSS and VmHWM (peak) of a process, from /proc (Linux). */
export function procMemory(pid: number | undefined): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    return { rssKB: kb('VmRSS'), peakKB: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** Pids of `root` and all its descendants (Linux /proc), e.g. Dovecot's master and its per-connection processes. */
export function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const ppid = Number(/\) \S+ (\d+)/.exec(readFileSync(`/proc/${e}/stat`, 'utf8'))?.[1]);
      (children.get(ppid) ?? children.set(ppid, []).get(ppid)!).push(Number(e));
    } catch { /* gone meanwhile */ }
  }
  const out: number[] = [];
  for (const stack = [root]; stack.length;) {
    const pid = stack.pop()!;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Sum of Pss (KB) of these processes: shared pages counted once overall, as a process-per-connection server needs. */
export function pssKB(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try { kb += Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0); } catch { /* gone */ }
  }
  return kb;
}

/** Lifts this process's open-files limit (we run as root in CI; else up to the hard limit): for 10,000 sockets. */
export function raiseFileLimit(pid: number, n = 65_536): void {
  try { execFileSync('prlimit', ['--pid', String(pid), `--nofile=${n}:${n}`], { stdio: 'ignore' }); } catch {
    try { execFileSync('prlimit', ['--pid', String(pid), `--nofile=${n}`], { stdio: 'ignore' }); } catch { /* keep the limit */ }
  }
}

/** What the gateway serves: the embedded store forked here with the corpus, or an existing JMAP account (Cyrus). */
export type GatewayBackend = { kind: 'embedded'; spec: CorpusSpec } | { kind: 'external'; account: JmapAccount; imported: number };

/** Options of bench/gateway-child.ts beyond its paths. */
export interface GatewayChildOptions {
  tenant?: string;
  headerSource?: 'jmap' | 'raw';
  countJmap?: boolean;
  /** Also serve a second port whose SEARCH TEXT/BODY uses the store's index (session/policy.ts `searchText: index`). */
  indexSearch?: boolean;
}

/** The embedded store (loaded with the corpus) or an external JMAP server, and the gateway in front of it. */
export async function startGatewayTarget(dir: string, backend: GatewayBackend, opts: GatewayChildOptions = {}): Promise<Target & { imported: number }> {
  mkdirSync(dir, { recursive: true });
  const store = backend.kind === 'embedded'
    ? await forkChild<{ url: string; imported: number }>('store-child.ts', [join(dir, 'jmap.sqlite'), BENCH_USER, BENCH_PASSWORD, JSON.stringify(backend.spec)])
    : null;
  const account: JmapAccount = store ? { sessionUrl: `${store.ready.url}/.well-known/jmap`, user: BENCH_USER, password: BENCH_PASSWORD } : (backend as { account: JmapAccount }).account;
  const childOpts: GatewayChildOptions = { indexSearch: !!store, ...opts, countJmap: !store };
  let generation = 0;
  const startGateway = async () => {
    generation++;
    const g = await forkChild<{ port: number; tlsPort: number; indexPort?: number }>('gateway-child.ts',
      [dir, join(dir, `uidmap-${generation}.sqlite`), account.sessionUrl, join(dir, `cache-${generation}.sqlite`), JSON.stringify(childOpts)]);
    raiseFileLimit(g.child.pid!);
    return g;
  };
  let gateway = await startGateway();
  const ask = <T>(child: ChildProcess, key: string): Promise<T> => new Promise<T>((resolve) => {
    child.on('message', function answer(m: unknown) {
      const v = (m as Record<string, T>)[key];
      if (v === undefined) return;
      child.off('message', answer);
      resolve(v);
    });
    child.send(key);
  });
  const target: Target & { imported: number; tlsPort: number } = {
    name: 'gateway' as const,
    port: gateway.ready.port,
    tlsPort: gateway.ready.tlsPort,
    indexPort: gateway.ready.indexPort,
    imported: store ? store.ready.imported : (backend as { imported: number }).imported,
    jmapAccount: account,
    files: () => ({ uidmap: join(dir, `uidmap-${generation}.sqlite`), cache: join(dir, `cache-${generation}.sqlite`) }),
    pssKB: () => pssKB([gateway.child.pid!]),
    async makeCold() {
      await stop(gateway.child);
      gateway = await startGateway();
      target.port = gateway.ready.port;
      target.tlsPort = gateway.ready.tlsPort;
      target.indexPort = gateway.ready.indexPort;
      const warm = await ImapClient.connect(target.port); // JIT warm-up that leaves the mailbox unseen
      const who = target.login ?? { user: BENCH_USER, password: BENCH_PASSWORD };
      await warm.ok(`LOGIN "${who.user}" "${who.password}"`);
      await warm.logout();
    },
    jmap: () => ask<JmapCounters>(store ? store.child : gateway.child, 'counters'),
    memory: () => procMemory(gateway.child.pid),
    async close() {
      await Promise.all([stop(gateway.child), ...(store ? [stop(store.child)] : [])]);
    },
  };
  return target;
}
