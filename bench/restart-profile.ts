/**
 * Issue 4 "warm includes before a restart": the first `UID FETCH 1:* FLAGS` and STATUS UNSEEN of a gateway
 * restarted over the same data directory (UID map and cache file), at scale. The store is bench/scale-profile.ts's
 * seeded SQLite file (seeded there once); the gateway runs as a child process (bench/gateway-child.ts). Each round:
 * a first gateway does SELECT, FLAGS and STATUS (filling the map and caches) and exits; a second one over the same
 * files answers SELECT, then STATUS and FLAGS, measured. `--forget` deletes the stored keywords and UNSEEN counts
 * between the two (what a restart cost before they were stored).
 *
 *   node --import tsx bench/restart-profile.ts [--messages 100000] [--store DIR] [--rounds 3] [--forget] [--cpu-prof DIR]
 */
import { serve } from '@hono/node-server';
import Database from 'better-sqlite3';
import { fork } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openEmbeddedStore } from '../src/embedded/index.ts';
import { median } from './runner.ts';
import { expectFetches, MeasuredSession } from './scenario.ts';
import type { JmapCounters } from './store-child.ts';
import type { Target } from './targets.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: {
  messages: { type: 'string', default: '100000' }, store: { type: 'string' }, rounds: { type: 'string', default: '3' },
  forget: { type: 'boolean', default: false }, 'cpu-prof': { type: 'string' },
} });
const n = Number(values.messages);
const dbPath = join(values.store ?? join(os.tmpdir(), `gw-scale-${n}`), 'jmap.sqlite');
if (!existsSync(dbPath)) throw new Error(`${dbPath} missing: seed it with bench/scale-profile.ts --messages ${n}`);
const store = openEmbeddedStore({ dbPath });
const counters: JmapCounters = { requests: 0, bytesSent: 0, bytesReceived: 0 };
const server = await new Promise<{ url: string; close(): void }>((resolve) => {
  const srv = serve({ port: 0, hostname: '127.0.0.1', fetch: async (req: Request) => {
    counters.requests++;
    const res = await store.fetch(req);
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) return res;
    const body = await res.arrayBuffer();
    counters.bytesReceived += body.byteLength;
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  } }, (info: AddressInfo) => resolve({ url: `http://127.0.0.1:${info.port}`, close: () => srv.close() }));
});
const cpuMs = (pid: number | undefined): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};

/** A gateway child over `dir`; resolves with its target and a stop function. */
async function gateway(dir: string) {
  const gw = fork(join(ROOT, 'bench', 'gateway-child.ts'),
    [dir, join(dir, 'uidmap.sqlite'), `${server.url}/.well-known/jmap`, join(dir, 'cache.sqlite')],
    { cwd: ROOT, execArgv: ['--import', 'tsx', ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [])], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    gw.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
    gw.on('message', (m: unknown) => { if ((m as { ready?: boolean }).ready) resolve((m as { port: number }).port); });
  });
  const target: Target = { name: 'gateway', port, makeCold: async () => {}, close: async () => {}, jmap: async () => ({ ...counters }) };
  const stop = async () => {
    gw.removeAllListeners('exit');
    const exited = new Promise<void>((r) => gw.once('exit', () => r()));
    gw.disconnect();
    await exited;
  };
  return { target, pid: gw.pid, stop };
}

async function measured(target: Target, pid: number | undefined, label: string, command: string, select: boolean) {
  const s = await MeasuredSession.open(target);
  await s.login();
  if (select) await s.select(n);
  const c0 = cpuMs(pid);
  const r = await s.run(label, command, { keepLines: true });
  const cpu = cpuMs(pid) - c0;
  if (label === 'FLAGS') expectFetches(r, n, 'FLAGS');
  else if (!r.lines.join(' ').includes(`MESSAGES ${n}`)) throw new Error(`STATUS: ${r.lines.join(' ')}`);
  await s.close();
  const j = s.jmap.at(-1)!;
  return { ms: r.ms, cpu, requests: j.requests, bytes: j.bytesReceived };
}

const STATUS = 'STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)';
const rows: Record<string, Array<{ ms: number; cpu: number; requests: number; bytes: number }>> = { 'FLAGS before the restart (cold keywords)': [], STATUS: [], FLAGS: [] };
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    const dir = mkdtempSync(join(os.tmpdir(), 'gw-restart-prof-'));
    chmodSync(dir, 0o755);
    try {
      const first = await gateway(dir);
      rows['FLAGS before the restart (cold keywords)']!.push(await measured(first.target, first.pid, 'FLAGS', 'UID FETCH 1:* FLAGS', true));
      await measured(first.target, first.pid, 'STATUS', STATUS, false);
      await first.stop();
      if (values.forget) {
        const db = new Database(join(dir, 'cache.sqlite'));
        db.exec('DELETE FROM keywords; DELETE FROM keyword_state; DELETE FROM unseen_counts;');
        db.close();
      }
      const second = await gateway(dir);
      const warm = await MeasuredSession.open(second.target); // the UID map's SELECT first, as a client would
      await warm.login();
      await warm.select(n);
      await warm.close();
      rows.STATUS!.push(await measured(second.target, second.pid, 'STATUS', STATUS, false));
      rows.FLAGS!.push(await measured(second.target, second.pid, 'FLAGS', 'UID FETCH 1:* FLAGS', true));
      await second.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  for (const [name, xs] of Object.entries(rows)) {
    console.log(`${name}${name.includes('before') ? '' : ' first after restart'}${values.forget ? ' (stored keywords/counts deleted)' : ''}: median ${median(xs.map((x) => x.ms)).toFixed(1)} ms`,
      `[${xs.map((x) => x.ms.toFixed(0)).join(', ')}], gateway cpu ${median(xs.map((x) => x.cpu))} ms,`,
      `JMAP requests ${xs.map((x) => x.requests).join('/')}, ${xs.map((x) => x.bytes).join('/')} B`);
  }
} finally {
  server.close();
  store.close();
}
