/**
 * A reduced bench run for profiling (docs/bench/profile.md): the embedded store and the gateway as child processes
 * (as `npm run bench`), the gateway-side scenarios only (warm listing, warm SELECT, full download), a few rounds,
 * medians printed with the JMAP requests each made. With `--cpu-prof DIR` the gateway child runs under
 * `node --cpu-prof` and writes its profile to DIR/gateway when it exits (the store's to DIR/store).
 *
 *   node --import tsx bench/profile-run.ts [--messages N] [--rounds 3] [--cpu-prof DIR] [--only listing,select,download]
 *
 * `--only download-cold`: the full download right after a gateway restart (new UID store and caches, as the bench's
 * cold scenarios), so every message comes from the store; `download` after the first round is served from the
 * raw-message cache.
 * Also `--only mixed,append,steps`: the bench's mixed-load and APPEND scenarios as they are (bench/scenarios), with
 * the CPU of both processes per IMAP command; `steps` runs one mixed-load session alone and prints the JMAP requests
 * of each of its commands (the mixed scenario itself only counts them all together).
 * `--only search-header,search-text,search-text-index,search-flag`: the bench's SEARCH scenarios (bench/scenarios/search.ts)
 * after the cold listing (message cache filled, as in the bench), the figure being the UID SEARCH alone.
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
import { GATEWAY_NODE_FLAGS } from '../src/config/node-flags.ts';
import { mixedLoad } from './scenarios/mixed.ts';
import { appendLiteralPlus } from './scenarios/append.ts';
import { searchFlag, searchHeader, searchText, searchTextIndex } from './scenarios/search.ts';

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
let generation = 0;
/** A gateway child with a new UID store and cache (generation > 1: a restarted gateway that never saw the mailbox). */
const startGateway = () => forkChild<{ port: number; indexPort?: number }>('gateway-child.ts',
  [dir, join(dir, `uidmap-${++generation}.sqlite`), `${store.ready.url}/.well-known/jmap`, join(dir, `cache-${generation}.sqlite`), JSON.stringify({ indexSearch: true })], [...GATEWAY_NODE_FLAGS, ...prof('gateway')]);
let gw = await startGateway();
const target: Target = {
  name: 'gateway', port: gw.ready.port, ...(gw.ready.indexPort ? { indexPort: gw.ready.indexPort } : {}), makeCold: async () => {}, close: async () => {},
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

/** The two scenarios as `npm run bench` runs them; `per` = IMAP commands of the run, for CPU per command. */
async function mixed() {
  const r = await mixedLoad.run({ target, messages: n, smoke: false });
  return { v: r.value, per: r.extra!.commands!, s: { jmap: r.jmap } };
}
async function append() {
  const r = await appendLiteralPlus.run({ target, messages: n, smoke: false });
  return { v: r.value, per: 200, s: { jmap: r.jmap } };
}
/** One mixed-load session (LOGIN, SELECT, 2 iterations, LOGOUT) with the JMAP requests of each command. */
async function steps() {
  const msg = loadCorpus({ kind: 'generated', messages: 1 }).messages[0]!;
  const t0 = performance.now();
  const s = await MeasuredSession.open(target);
  await s.login();
  await s.select(n);
  for (let i = 0; i < 2; i++) {
    await s.run('UID FETCH 20', `UID FETCH ${100 + i * 20}:${119 + i * 20} (FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (From Subject Date)])`);
    const before = await target.jmap!();
    const r = await s.client.command([new TextEncoder().encode(`APPEND INBOX {${msg.length}+}\r\n`), msg]);
    const after = await target.jmap!();
    s.jmap.push({ command: 'APPEND', requests: after.requests - before.requests, bytesSent: 0, bytesReceived: after.bytesReceived - before.bytesReceived });
    if (r.status !== 'OK') throw new Error(`APPEND: ${r.text}`);
    const uid = /\[APPENDUID \d+ (\d+)\]/i.exec(r.text)![1];
    await s.run('STORE \\Flagged', `UID STORE ${uid} +FLAGS.SILENT (\\Flagged)`);
    await s.run('STORE \\Deleted', `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
    await s.run('UID EXPUNGE', `UID EXPUNGE ${uid}`);
  }
  await s.close();
  return { v: performance.now() - t0, per: 12, s };
}

/** A SEARCH scenario of the bench (its figure: the UID SEARCH alone, in a fresh session after LOGIN + SELECT). */
const search = (sc: typeof searchHeader) => async () => {
  const r = await sc.run({ target, messages: n, smoke: false });
  return { v: r.value, s: { jmap: r.jmap } };
};

/**
 * As the bench's `makeCold` (bench/targets.ts): the gateway restarted with an empty UID store, message cache and
 * raw-message cache, then one LOGIN/LOGOUT that leaves the mailbox unseen. Runs before a round's CPU is read.
 */
async function restartGateway() {
  gw.child.disconnect();
  await ended(gw.child);
  gw = await startGateway();
  target.port = gw.ready.port;
  const warm = await MeasuredSession.open(target);
  await warm.login();
  await warm.close();
}

const scenarios = { listing, select, download, 'download-cold': download, mixed, append, steps, 'search-header': search(searchHeader),
  'search-text': search(searchText), 'search-text-index': search(searchTextIndex), 'search-flag': search(searchFlag) } as const;
try {
  const cold = await listing(); // also fills the message cache, as the bench's warm-up does
  console.log(`listing cold: ${cold.v.toFixed(1)} ms`, JSON.stringify(cold.s.jmap));
  for (const name of values.only!.split(',') as Array<keyof typeof scenarios>) {
    const xs: number[] = [];
    const gwCpu: number[] = [];
    const storeCpu: number[] = [];
    let last: { jmap: MeasuredSession['jmap'] } | undefined;
    const perCmd: number[] = [];
    for (let i = 0; i < Number(values.rounds); i++) {
      if (name === 'download-cold') await restartGateway();
      const g0 = cpuMs(gw.child.pid), s0 = cpuMs(store.child.pid);
      const r: { v: number; s: { jmap: MeasuredSession['jmap'] }; per?: number } = await scenarios[name]();
      gwCpu.push(cpuMs(gw.child.pid) - g0);
      storeCpu.push(cpuMs(store.child.pid) - s0);
      if (r.per) perCmd.push((gwCpu.at(-1)! + storeCpu.at(-1)!) / r.per, gwCpu.at(-1)! / r.per, storeCpu.at(-1)! / r.per);
      xs.push(r.v);
      last = r.s;
    }
    const unit = { download: 'MB/s', 'download-cold': 'MB/s', mixed: 'commands/s', append: 'msg/s' }[name as string] ?? 'ms';
    const per = (k: number) => median(perCmd.filter((_, i) => i % 3 === k)).toFixed(2);
    console.log(`${name}: median ${median(xs).toFixed(2)} ${unit} [${xs.map((x) => x.toFixed(1)).join(', ')}]`,
      `cpu ms gateway ${median(gwCpu)} store ${median(storeCpu)}`,
      perCmd.length ? `cpu ms per command ${per(0)} (gateway ${per(1)} store ${per(2)})` : '',
      JSON.stringify(last!.jmap.map((j) => [j.command, j.requests, j.bytesReceived])));
  }
} finally {
  gw.child.disconnect(); // exits normally: --cpu-prof writes its profile
  store.child.disconnect();
  await Promise.all([ended(gw.child), ended(store.child)]);
  rmSync(dir, { recursive: true, force: true });
}
