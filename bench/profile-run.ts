/**
 * A reduced bench run for profiling (docs/bench/profile.md): the embedded store and the gateway as child processes
 * (as `npm run bench`), the gateway-side scenarios only (warm listing, warm SELECT, full download), a few rounds,
 * medians printed with the JMAP requests each made. With `--cpu-prof DIR` the gateway child runs under
 * `node --cpu-prof` and writes its profile to DIR/gateway when it exits (the store's to DIR/store).
 *
 *   node --import tsx bench/profile-run.ts [--messages N] [--rounds 3] [--cpu-prof DIR] [--only listing,select,download]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { findSpamAssassin, loadCorpus, type CorpusSpec } from './corpus.ts';
import { median } from './runner.ts';
import { expectFetches, MeasuredSession, THUNDERBIRD_LISTING } from './scenario.ts';
import type { JmapCounters } from './store-child.ts';
import { BENCH_PASSWORD, BENCH_USER, type Target } from './targets.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: {
  messages: { type: 'string' }, rounds: { type: 'string', default: '3' }, 'cpu-prof': { type: 'string' },
  only: { type: 'string', default: 'listing,select,download' },
} });

function forkChild<T>(file: string, args: string[], execArgv: string[] = []): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(join(ROOT, 'bench', file), args, {
    cwd: ROOT, execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
    child.on('message', function first(m: unknown) {
      if (!(m as { ready?: boolean }).ready) return;
      child.off('message', first);
      child.removeAllListeners('exit');
      resolve({ child, ready: m as T });
    });
  });
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux): load-independent cost figures. */
function cpuMs(pid: number | undefined): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
}

const ended = (c: ChildProcess) => new Promise<void>((r) => (c.exitCode !== null ? r() : c.once('exit', () => r())));

const saDir = findSpamAssassin();
const spec: CorpusSpec = values.messages ? { kind: 'generated', messages: Number(values.messages) }
  : saDir ? { kind: 'spam-assassin', dir: saDir } : { kind: 'generated', messages: 6046 };
const n = loadCorpus(spec).messages.length;
const dir = mkdtempSync(join(os.tmpdir(), 'gw-prof-'));
chmodSync(dir, 0o755);
const prof = (who: string) => (values['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', join(values['cpu-prof'], who)] : []);
const store = await forkChild<{ url: string }>('store-child.ts', [join(dir, 'jmap.sqlite'), BENCH_USER, BENCH_PASSWORD, JSON.stringify(spec)], prof('store'));
const gw = await forkChild<{ port: number }>('gateway-child.ts',
  [dir, join(dir, 'uidmap.sqlite'), `${store.ready.url}/.well-known/jmap`, join(dir, 'cache.sqlite')], prof('gateway'));
const target: Target = {
  name: 'gateway', port: gw.ready.port, makeCold: async () => {}, close: async () => {},
  jmap: () => new Promise<JmapCounters>((resolve) => {
    store.child.on('message', function answer(m: unknown) {
      const c = (m as { counters?: JmapCounters }).counters;
      if (!c) return;
      store.child.off('message', answer);
      resolve(c);
    });
    store.child.send('counters');
  }),
};

async function listing() {
  const t0 = performance.now();
  const s = await MeasuredSession.open(target);
  await s.login();
  await s.select(n);
  expectFetches(await s.run('UID FETCH (listing)', THUNDERBIRD_LISTING), n, 'listing');
  const ms = performance.now() - t0;
  await s.close();
  return { v: ms, s };
}
async function select() {
  const s = await MeasuredSession.open(target);
  await s.login();
  const r = await s.select(n);
  await s.close();
  return { v: r.ms, s };
}
async function download() {
  const s = await MeasuredSession.open(target);
  await s.login();
  await s.select(n);
  const r = await s.run('UID FETCH 1:* BODY.PEEK[]', 'UID FETCH 1:* BODY.PEEK[]');
  expectFetches(r, n, 'BODY.PEEK[]');
  await s.close();
  return { v: r.literalBytes / 1e6 / (r.ms / 1000), s };
}

const scenarios = { listing, select, download } as const;
try {
  const cold = await listing();
  console.log(`listing cold: ${cold.v.toFixed(1)} ms`, JSON.stringify(cold.s.jmap));
  for (const name of values.only!.split(',') as Array<keyof typeof scenarios>) {
    const xs: number[] = [];
    const gwCpu: number[] = [];
    const storeCpu: number[] = [];
    let last: MeasuredSession | undefined;
    for (let i = 0; i < Number(values.rounds); i++) {
      const g0 = cpuMs(gw.child.pid), s0 = cpuMs(store.child.pid);
      const r = await scenarios[name]();
      gwCpu.push(cpuMs(gw.child.pid) - g0);
      storeCpu.push(cpuMs(store.child.pid) - s0);
      xs.push(r.v);
      last = r.s;
    }
    console.log(`${name}: median ${median(xs).toFixed(2)} ${name === 'download' ? 'MB/s' : 'ms'} [${xs.map((x) => x.toFixed(1)).join(', ')}]`,
      `cpu ms gateway ${median(gwCpu)} store ${median(storeCpu)}`,
      JSON.stringify(last!.jmap.map((j) => [j.command, j.requests, j.bytesReceived])));
  }
} finally {
  gw.child.disconnect(); // exits normally: --cpu-prof writes its profile
  store.child.disconnect();
  await Promise.all([ended(gw.child), ended(store.child)]);
  rmSync(dir, { recursive: true, force: true });
}
