/**
 * What a scenario measures against: an IMAP server on a loopback port with one user whose INBOX holds the corpus.
 * `gateway` = this project (child process) over the embedded JMAP store (another child process, counted);
 * `dovecot` = a private Dovecot (bench/dovecot.ts) over a Maildir of the same messages.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JmapCounters } from './store-child.ts';
import type { CorpusSpec } from './corpus.ts';
import { ImapClient } from './imap-client.ts';

export type TargetName = 'gateway' | 'dovecot';
export const BENCH_USER = 'bench@example.test';
export const BENCH_PASSWORD = 'bench-password';
/** INTERNALDATE of message i = this + i seconds, in both servers. */
export const RECEIVED_BASE_MS = Date.UTC(2024, 0, 1);

export interface Memory { rssKB: number; peakKB: number }

export interface Target {
  name: TargetName;
  port: number;
  /** After this, the next session is the first to see the mailbox (gateway: new process, empty UID store). */
  makeCold(): Promise<void>;
  /** JMAP traffic so far (gateway only). */
  jmap?(): Promise<JmapCounters>;
  /** The server process's resident memory (gateway only; Dovecot runs a process per connection). */
  memory?(): Memory | null;
  close(): Promise<void>;
}

const ROOT = new URL('..', import.meta.url).pathname;

/** Forks a bench child under tsx and waits for its `{ready}` message. */
function forkChild<T>(file: string, args: string[]): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(join(ROOT, 'bench', file), args, {
    cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
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

/** The embedded store (loaded with the corpus) and the gateway in front of it. */
export async function startGatewayTarget(dir: string, spec: CorpusSpec): Promise<Target & { imported: number }> {
  mkdirSync(dir, { recursive: true });
  const store = await forkChild<{ url: string; imported: number }>('store-child.ts',
    [join(dir, 'jmap.sqlite'), BENCH_USER, BENCH_PASSWORD, JSON.stringify(spec)]);
  let generation = 0;
  const startGateway = () => {
    generation++;
    return forkChild<{ port: number }>('gateway-child.ts',
      [dir, join(dir, `uidmap-${generation}.sqlite`), `${store.ready.url}/.well-known/jmap`, join(dir, `cache-${generation}.sqlite`)]);
  };
  let gateway = await startGateway();
  const target = {
    name: 'gateway' as const,
    port: gateway.ready.port,
    imported: store.ready.imported,
    async makeCold() {
      await stop(gateway.child);
      gateway = await startGateway();
      target.port = gateway.ready.port;
      const warm = await ImapClient.connect(target.port); // JIT warm-up that leaves the mailbox unseen
      await warm.ok(`LOGIN "${BENCH_USER}" "${BENCH_PASSWORD}"`);
      await warm.logout();
    },
    jmap: () => new Promise<JmapCounters>((resolve) => {
      store.child.on('message', function answer(m: unknown) {
        const c = (m as { counters?: JmapCounters }).counters;
        if (!c) return;
        store.child.off('message', answer);
        resolve(c);
      });
      store.child.send('counters');
    }),
    memory: () => procMemory(gateway.child.pid),
    async close() {
      await Promise.all([stop(gateway.child), stop(store.child)]);
    },
  };
  return target;
}
