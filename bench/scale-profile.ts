/**
 * Profiling harness for issue 4 "Scale" (docs/bench/profile.md, "100k"): the embedded store in THIS process over a
 * seeded SQLite file kept between runs (seeding 100,000 messages once, not per run), the gateway as a child process
 * (optionally under `node --cpu-prof`) with a fresh UID map and cache. Runs cold SELECT, then warm SELECT, STATUS and
 * `UID FETCH 1:* FLAGS` in fresh sessions, printing medians, gateway CPU and the JMAP requests/bytes of each.
 *
 *   node --import tsx bench/scale-profile.ts [--messages 100000] [--store DIR] [--rounds 5] [--cpu-prof DIR] [--only select,status,flags]
 */
import { serve } from '@hono/node-server';
import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openEmbeddedStore } from '../src/embedded/index.ts';
import { loadCorpus } from './corpus.ts';
import { median } from './runner.ts';
import { expectFetches, MeasuredSession } from './scenario.ts';
import type { JmapCounters } from './store-child.ts';
import { BENCH_PASSWORD, BENCH_USER, RECEIVED_BASE_MS, type Target } from './targets.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: {
  messages: { type: 'string', default: '100000' }, store: { type: 'string' }, rounds: { type: 'string', default: '5' },
  'cpu-prof': { type: 'string' }, only: { type: 'string', default: 'select,status,flags' },
} });
const n = Number(values.messages);
const storeDir = values.store ?? join(os.tmpdir(), `gw-scale-${n}`);
mkdirSync(storeDir, { recursive: true });
const dbPath = join(storeDir, 'jmap.sqlite');
const seeded = existsSync(dbPath);
const store = openEmbeddedStore({ dbPath });
if (!seeded) {
  const t0 = performance.now();
  store.createUser(BENCH_USER, BENCH_PASSWORD);
  loadCorpus({ kind: 'generated', messages: n }).messages
    .forEach((raw, i) => store.importMessage(BENCH_USER, 'INBOX', raw, { receivedAt: new Date(RECEIVED_BASE_MS + i * 1000) }));
  console.log(`seeded ${n} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
const counters: JmapCounters = { requests: 0, bytesSent: 0, bytesReceived: 0 };
const server = await new Promise<{ url: string; close(): void }>((resolve) => {
  const srv = serve({ port: 0, hostname: '127.0.0.1', fetch: async (req: Request) => {
    counters.requests++;
    counters.bytesSent += Number(req.headers.get('content-length') ?? 0);
    const res = await store.fetch(req);
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) return res;
    const body = await res.arrayBuffer();
    counters.bytesReceived += body.byteLength;
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers });
  } }, (info: AddressInfo) => resolve({ url: `http://127.0.0.1:${info.port}`, close: () => srv.close() }));
});

const dir = mkdtempSync(join(os.tmpdir(), 'gw-scale-prof-'));
chmodSync(dir, 0o755);
const execArgv = ['--import', 'tsx', ...(values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', values['cpu-prof']] : [])];
const gw: ChildProcess = fork(join(ROOT, 'bench', 'gateway-child.ts'),
  [dir, join(dir, 'uidmap.sqlite'), `${server.url}/.well-known/jmap`, join(dir, 'cache.sqlite')],
  { cwd: ROOT, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
const port = await new Promise<number>((resolve, reject) => {
  gw.once('exit', (code) => reject(new Error(`gateway exited with ${code}`)));
  gw.on('message', (m: unknown) => { if ((m as { ready?: boolean }).ready) resolve((m as { port: number }).port); });
});
const target: Target = { name: 'gateway', port, makeCold: async () => {}, close: async () => {}, jmap: async () => ({ ...counters }) };
const cpuMs = (pid: number | undefined): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
};

async function selectRun() {
  const s = await MeasuredSession.open(target);
  await s.login();
  const r = await s.select(n);
  await s.close();
  return { v: r.ms, s };
}
async function statusRun() {
  const s = await MeasuredSession.open(target);
  await s.login();
  const r = await s.run('STATUS INBOX', 'STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)', { keepLines: true });
  if (!r.lines.join(' ').includes(`MESSAGES ${n}`)) throw new Error(`STATUS: ${r.lines.join(' ')}`);
  await s.close();
  return { v: r.ms, s };
}
async function flagsRun() {
  const s = await MeasuredSession.open(target);
  await s.login();
  await s.select(n);
  const r = await s.run('UID FETCH 1:* FLAGS', 'UID FETCH 1:* FLAGS');
  expectFetches(r, n, 'FLAGS');
  await s.close();
  return { v: r.ms, s };
}

const report = (name: string, xs: number[], cpu: number[], s: MeasuredSession) =>
  console.log(`${name}: median ${median(xs).toFixed(1)} ms [${xs.map((x) => x.toFixed(1)).join(', ')}] gateway cpu ${median(cpu)} ms`,
    JSON.stringify(s.jmap.map((j) => [j.command, j.requests, j.bytesReceived])));
const pssKB = (pid: number | undefined): number => Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
const fileBytes = (path: string): number => ['', '-wal'].reduce((sum, ext) => sum + (existsSync(path + ext) ? statSync(path + ext).size : 0), 0);
try {
  const pss0 = pssKB(gw.pid);
  const cold = await selectRun();
  report('select cold', [cold.v], [0], cold.s);
  console.log(`per message after the cold SELECT: gateway memory +${(((pssKB(gw.pid) - pss0) * 1024) / n).toFixed(0)} B (Pss),`,
    `UID map file ${(fileBytes(join(dir, 'uidmap.sqlite')) / n).toFixed(0)} B (incl. WAL)`);
  const all = { select: selectRun, status: statusRun, flags: flagsRun } as const;
  for (const key of values.only!.split(',') as Array<keyof typeof all>) {
    const [name, fn] = [`${key} warm`, all[key]] as const;
    const xs: number[] = [];
    const cpu: number[] = [];
    let last: MeasuredSession | undefined;
    for (let i = 0; i < Number(values.rounds); i++) {
      const c0 = cpuMs(gw.pid);
      const r = await fn();
      cpu.push(cpuMs(gw.pid) - c0);
      xs.push(r.v);
      last = r.s;
    }
    report(name, xs, cpu, last!);
  }
} finally {
  gw.disconnect();
  await new Promise<void>((r) => (gw.exitCode !== null ? r() : gw.once('exit', () => r())));
  server.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
