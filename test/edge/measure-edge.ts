/**
 * Figures for docs/deployment.md (not a test: `npx tsx test/edge/measure-edge.ts`):
 * - memory and CPU per idle, logged-in IMAP connection (INBOX selected), and per connection in IDLE (RFC 2177):
 *   workerd (the Worker; IDLE long-polls the account's Durable Object) vs Node (the gateway in a child process; one
 *   in-process watcher per account), as the server process's RSS delta over N connections (CONNECTIONS, default
 *   1000; 0 skips this part), each runtime and mode in a fresh process;
 * - latency of a UID allocation: Durable Object RPC inside workerd (rpc-latency-worker.ts), HttpUidStore -> Worker ->
 *   Durable Object on loopback, and SqliteUidStore in-process; of a message-cache read over HTTP vs in-process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/embedded/index.ts';
import { HttpUidStore } from '../../src/edge/http-uid-store.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import { SqliteMessageCache } from '../../src/cache/sqlite.ts';
import { HttpMessageCache } from '../../src/edge/http-message-cache.ts';
import { ALL } from '../fixtures/messages.ts';
import { startWorkerd } from './workerd-harness.ts';

const N = Number(process.env.CONNECTIONS ?? 1000);
const USER = 'alice@example.test';
const PASS = 'pw-measure';
const dir = mkdtempSync(join(tmpdir(), 'edge-measure-'));

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const cpuTicks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Mode = 'selected' | 'IDLE';

/** A raw client: LOGIN and SELECT INBOX, then stay idle (in IDLE when `mode` says so). */
async function idleClient(port: number, mode: Mode): Promise<Socket> {
  const s = connect({ host: '127.0.0.1', port });
  let buf = '';
  const waitFor = (re: RegExp): Promise<void> => new Promise((resolve, reject) => {
    const check = (): void => { if (re.test(buf)) { s.off('data', onData); resolve(); } };
    const onData = (d: Buffer): void => { buf += d.toString('latin1'); check(); };
    s.on('data', onData);
    s.once('error', reject);
    check();
  });
  await waitFor(/^\* OK/m);
  s.write(`a LOGIN "${USER}" "${PASS}"\r\n`);
  await waitFor(/^a OK/m);
  s.write('b SELECT INBOX\r\n');
  await waitFor(/^b OK/m);
  if (mode === 'IDLE') {
    s.write('c IDLE\r\n');
    await waitFor(/^\+ /m);
  }
  return s;
}

async function perConnection(label: string, pid: number, port: number, mode: Mode): Promise<void> {
  if (N === 0) return; // CONNECTIONS=0: latencies only
  (await idleClient(port, mode)).destroy(); // warm-up: code paths compiled, caches filled
  await sleep(1000);
  const before = rssKb(pid);
  const cpu0 = cpuTicks(pid);
  const socks: Socket[] = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < N; i++) socks.push(await idleClient(port, mode));
  } catch (err) {
    console.log(`${label} (${mode}): connection ${socks.length + 1} failed: ${String(err)}`);
  }
  const opened = socks.length;
  const wall = performance.now() - t0;
  const cpu1 = cpuTicks(pid);
  await sleep(10_000);
  const after = rssKb(pid);
  const cpuIdle = cpuTicks(pid) - cpu1;
  console.log(`${label} (${mode}): RSS ${before} kB -> ${after} kB with ${opened} connections: ` +
    `${((after - before) / opened).toFixed(1)} kB per connection; CPU to open them ${((cpu1 - cpu0) * 10 / opened).toFixed(2)} ms each ` +
    `(${(wall / opened).toFixed(1)} ms wall each); CPU while idle 10 s: ${cpuIdle * 10} ms total`);
  for (const s of socks) s.destroy();
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

async function latency(label: string, assign: (id: string) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 20; i++) await assign(`warm-${i}`);
  const t: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    await assign(`m-${i}`);
    t.push(performance.now() - t0);
  }
  console.log(`${label}: median ${percentile(t, 0.5).toFixed(2)} ms, p95 ${percentile(t, 0.95).toFixed(2)} ms`);
}

const store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
store.createUser(USER, PASS);
ALL.forEach((raw) => store.importMessage(USER, 'inbox', raw));
const http = await store.listen(0, '127.0.0.1');
const TOKEN = 'measure-token';
const workerdVars = { JMAP_SESSION_URL: `${http.url}/.well-known/jmap`, TLS_TERMINATED: 'true', UID_API_TOKEN: TOKEN };
for (const mode of ['selected', 'IDLE'] as const) {
  const fresh = await startWorkerd({ vars: workerdVars });
  try {
    await perConnection('workerd', fresh.process.pid!, fresh.imapPort, mode);
  } finally {
    await fresh.stop();
  }
}
const w = await startWorkerd({ vars: workerdVars });
try {
  const api = new HttpUidStore({ baseUrl: w.httpUrl, token: TOKEN });
  await latency('UID assign of one new id, DO over HTTP (Node -> workerd -> DO, loopback)', (id) => api.assign('bench', 'inbox', [id]));
  const rpcWorker = await startWorkerd({ vars: {}, imap: false, entry: new URL('./rpc-latency-worker.ts', import.meta.url).pathname });
  try {
    const r = (await (await fetch(`${rpcWorker.httpUrl}/rpc-latency?n=300`)).json()) as { n: number; totalMs: number };
    console.log(`UID assign of one new id, Durable Object RPC inside workerd (what the Worker's sessions pay): mean ${(r.totalMs / r.n).toFixed(2)} ms over ${r.n} calls`);
  } finally {
    await rpcWorker.stop();
  }
  const sqlite = SqliteUidStore.open(join(dir, 'uid.sqlite'));
  await latency('UID assign of one new id, SqliteUidStore in-process (synchronous=FULL)', (id) => sqlite.assign('bench', 'inbox', [id]));
  await sqlite.close();
  // The message cache: a warm folder listing reads header blocks in batches (here 100 blocks of ~1 kB).
  const batch = Array.from({ length: 100 }, (_, i) => ({ emailId: `e${i}`, blobId: `b${i}`, threadId: `t${i}`, size: 2000, receivedAt: '2024-01-01T00:00:00Z', header: new Uint8Array(1000).fill(65) }));
  const ids = batch.map((m) => m.emailId);
  const doCache = new HttpMessageCache({ baseUrl: w.httpUrl, token: TOKEN, memoryBytes: 0 });
  await doCache.put('bench', batch);
  await latency('DO message cache over HTTP, get of 100 header blocks', () => doCache.get('bench', ids));
  const sqliteCache = SqliteMessageCache.open(join(dir, 'cache.sqlite'));
  await sqliteCache.put('bench', batch);
  await latency('SqliteMessageCache in-process, get of 100 header blocks', () => sqliteCache.get('bench', ids));
  await sqliteCache.close();
} finally {
  await w.stop();
}

// Node: the gateway alone in a child process (same embedded store over HTTP), a fresh one per mode.
async function nodeGateway(): Promise<{ child: ReturnType<typeof spawn>; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
    const { startNodeGateway } = await import(${JSON.stringify(new URL('../../src/transport/node-gateway.ts', import.meta.url).pathname)});
    const { jmapBasicAuthenticator } = await import(${JSON.stringify(new URL('../../src/auth/jmap-basic.ts', import.meta.url).pathname)});
    const { MemoryUidStore } = await import(${JSON.stringify(new URL('../../src/uidmap/memory.ts', import.meta.url).pathname)});
    const g = await startNodeGateway({ host: '127.0.0.1', imapPort: 0, imapsPort: -1, dataDir: ${JSON.stringify(join(dir, 'node'))},
      authenticator: jmapBasicAuthenticator({ sessionUrl: ${JSON.stringify(`${http.url}/.well-known/jmap`)}, tenant: 't' }),
      uidStore: new MemoryUidStore(), connectionLimits: { perAddress: 1e9, perUser: 1e9 } });
    console.log('PORT ' + g.imapPort);
  `], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /PORT (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
  });
  return { child, port };
}
try {
  for (const mode of ['selected', 'IDLE'] as const) {
    const { child, port } = await nodeGateway();
    try {
      await perConnection('Node', child.pid!, port, mode);
    } finally {
      child.kill('SIGKILL');
    }
  }
} finally {
  await http.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
