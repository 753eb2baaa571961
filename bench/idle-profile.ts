/**
 * Memory of idle IMAP sessions (issue 8, docs/bench/profile.md "IDLE memory"): the embedded store and the gateway as
 * child processes (as `npm run bench`), N connections that LOGIN, SELECT a 10-message mailbox and IDLE; prints the
 * gateway's Pss growth per connection and, with `--heap DIR`, writes a heap snapshot of the gateway (SIGUSR2) and
 * the retained self size per constructor name per connection, biggest first.
 *
 * The gateway child runs with the V8 flags of `npm start` (src/config/node-flags.ts); `--node-flags="..."` replaces
 * them (`--node-flags=" "`: none), to compare. `--tls` opens the connections over implicit TLS. `--settle MS`: how
 * long after the last IDLE the memory is read (default 1000, as the bench).
 *
 *   node --import tsx bench/idle-profile.ts [--connections 1000] [--tls] [--heap DIR] [--node-flags="--flag ..."] [--settle 1000]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ImapClient } from './imap-client.ts';
import { BENCH_PASSWORD, BENCH_USER, raiseFileLimit } from './targets.ts';
import { GATEWAY_NODE_FLAGS } from '../src/config/node-flags.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const { values } = parseArgs({ options: {
  connections: { type: 'string', default: '1000' }, heap: { type: 'string' }, tls: { type: 'boolean', default: false }, 'node-flags': { type: 'string' },
  settle: { type: 'string', default: '1000' },
} });
const n = Number(values.connections);

function forkChild<T>(file: string, args: string[], execArgv: string[] = []): Promise<{ child: ChildProcess; ready: T }> {
  const child = fork(join(ROOT, 'bench', file), args, { cwd: ROOT, execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
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

/** Proportional set size of a process (KB), from /proc (Linux). */
function pssKB(pid: number): number {
  const m = /^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The gateway child's process.memoryUsage(), in KB. */
function memory(): Promise<Record<string, number>> {
  return new Promise((resolve) => {
    gw.child.on('message', function got(m: unknown) {
      const mem = (m as { memory?: Record<string, number> }).memory;
      if (!mem) return;
      gw.child.off('message', got);
      resolve(Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, Math.round(v / 1024)])));
    });
    gw.child.send('memory');
  });
}

/** Asks the gateway child for a heap snapshot (SIGUSR2, written to DIR) and returns its path once complete. */
async function snapshot(dir: string): Promise<string> {
  const had = new Set(readdirSync(dir));
  gw.child.kill('SIGUSR2');
  for (;;) {
    await settle(500);
    const f = readdirSync(dir).find((x) => !had.has(x) && x.endsWith('.heapsnapshot'));
    if (!f) continue;
    try { JSON.parse(readFileSync(join(dir, f), 'utf8')); return join(dir, f); } catch { /* still being written */ }
  }
}

/** Self size and count per node type and name (constructor) in a heap snapshot. */
function aggregate(file: string): Map<string, { count: number; bytes: number }> {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as { snapshot: { meta: { node_fields: string[]; node_types: [string[]] } }; nodes: number[]; strings: string[] };
  const f = snap.snapshot.meta.node_fields;
  const [iType, iName, iSize] = [f.indexOf('type'), f.indexOf('name'), f.indexOf('self_size')];
  const types = snap.snapshot.meta.node_types[0];
  const by = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < snap.nodes.length; i += f.length) {
    const key = `${types[snap.nodes[i + iType]!]}:${snap.strings[snap.nodes[i + iName]!]!.slice(0, 60).replace(/\s+/g, ' ')}`;
    const e = by.get(key) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += snap.nodes[i + iSize]!;
    by.set(key, e);
  }
  return by;
}
const dir = mkdtempSync(join(os.tmpdir(), 'gw-idle-'));
chmodSync(dir, 0o755);
const store = await forkChild<{ url: string }>('store-child.ts', [join(dir, 'jmap.sqlite'), BENCH_USER, BENCH_PASSWORD, JSON.stringify({ kind: 'generated', messages: 10 })]);
const heapArgs = [...(values.heap ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${values.heap}`] : []), ...(values['node-flags']?.split(/\s+/).filter(Boolean) ?? GATEWAY_NODE_FLAGS)];
const gw = await forkChild<{ port: number; tlsPort: number }>('gateway-child.ts', [dir, join(dir, 'uidmap.sqlite'), `${store.ready.url}/.well-known/jmap`, join(dir, 'cache.sqlite')], heapArgs);
// 10,000 connections need as many descriptors on both sides (as bench/run.ts does).
raiseFileLimit(process.pid);
raiseFileLimit(gw.child.pid!);
const login = `LOGIN "${BENCH_USER}" "${BENCH_PASSWORD}"`;
{ // warm the process (first login, code paths) with one session
  const c = await ImapClient.connect(gw.ready.port);
  await c.ok(login);
  await c.ok('SELECT INBOX');
  await c.logout();
}
await settle(500);
const base = values.heap ? await snapshot(values.heap) : null;
const before = pssKB(gw.child.pid!);
const memBefore = await memory();
const clients: ImapClient[] = [];
let next = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: 50 }, async () => {
  while (next < n) {
    next++;
    const c = await ImapClient.connect(values.tls ? gw.ready.tlsPort : gw.ready.port, '127.0.0.1', { tls: values.tls });
    clients.push(c);
    await c.ok(login);
    await c.ok('SELECT INBOX');
    await c.idle();
  }
}));
const setup = performance.now() - t0;
await settle(Number(values.settle));
const after = pssKB(gw.child.pid!);
const memAfter = await memory();
console.log(`per connection (KB): ${Object.keys(memAfter).map((k) => `${k} ${((memAfter[k]! - memBefore[k]!) / n).toFixed(1)}`).join(', ')}`);
console.log(`${n} idle ${values.tls ? 'TLS' : 'cleartext'} connections: ${((after - before) / n).toFixed(1)} KB each (Pss ${before} -> ${after} KB), setup ${(setup / 1000).toFixed(1)} s`);
if (values.heap) {
  const grown = aggregate(await snapshot(values.heap));
  await settle(1000);
  console.log(`after the snapshot's full GC: ${((pssKB(gw.child.pid!) - before) / n).toFixed(1)} KB each`);
  const was = aggregate(base!);
  const diff = [...grown].map(([k, e]) => [k, e.bytes - (was.get(k)?.bytes ?? 0), e.count - (was.get(k)?.count ?? 0)] as const);
  console.log(`JS heap growth: ${(diff.reduce((a, d) => a + d[1], 0) / n).toFixed(0)} B/conn (self sizes)`);
  for (const [k, bytes, count] of diff.sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${(bytes / n).toFixed(0).padStart(7)} B/conn ${(count / n).toFixed(1).padStart(6)} /conn  ${k}`);
  }
}
for (const c of clients) c.close();
gw.child.kill();
store.child.kill();
