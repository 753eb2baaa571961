/**
 * Figures for docs/deployment.md (not a test: `npx tsx test/edge/measure-edge.ts`):
 * - memory per idle, logged-in IMAP connection (INBOX selected): workerd (the Worker) vs Node (the gateway in a
 *   child process), as the server process's RSS delta over N connections;
 * - latency of a UID allocation: HttpUidStore -> Worker -> Durable Object on loopback, vs SqliteUidStore in-process.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEmbeddedStore } from '../../src/embedded/index.ts';
import { HttpUidStore } from '../../src/edge/http-uid-store.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import { ALL } from '../fixtures/messages.ts';
import { startWorkerd } from './workerd-harness.ts';

const N = Number(process.env.CONNECTIONS ?? 100);
const USER = 'alice@example.test';
const PASS = 'pw-measure';
const dir = mkdtempSync(join(tmpdir(), 'edge-measure-'));

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
const cpuTicks = (pid: number): number => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(f[11]) + Number(f[12]);
};
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A raw client: LOGIN and SELECT INBOX, then stay idle. */
async function idleClient(port: number): Promise<Socket> {
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
  return s;
}

async function perConnection(label: string, pid: number, port: number): Promise<void> {
  (await idleClient(port)).destroy(); // warm-up: code paths compiled, caches filled
  await sleep(1000);
  const before = rssKb(pid);
  const cpu0 = cpuTicks(pid);
  const socks: Socket[] = [];
  for (let i = 0; i < N; i++) socks.push(await idleClient(port));
  const cpu1 = cpuTicks(pid);
  await sleep(2000);
  const after = rssKb(pid);
  const cpuIdle = cpuTicks(pid) - cpu1;
  console.log(`${label}: RSS ${before} kB -> ${after} kB with ${N} idle logged-in connections: ` +
    `${((after - before) / N).toFixed(1)} kB per connection; CPU to open them ${((cpu1 - cpu0) * 10 / N).toFixed(1)} ms each; ` +
    `CPU while idle 2 s: ${cpuIdle * 10} ms total`);
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
  console.log(`${label}: assign of one new id: median ${percentile(t, 0.5).toFixed(2)} ms, p95 ${percentile(t, 0.95).toFixed(2)} ms`);
}

const store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
store.createUser(USER, PASS);
ALL.forEach((raw) => store.importMessage(USER, 'inbox', raw));
const http = await store.listen(0, '127.0.0.1');
const TOKEN = 'measure-token';
const w = await startWorkerd({ vars: { JMAP_SESSION_URL: `${http.url}/.well-known/jmap`, TLS_TERMINATED: 'true', UID_API_TOKEN: TOKEN } });
try {
  await perConnection('workerd', w.process.pid!, w.imapPort);
  const api = new HttpUidStore({ baseUrl: w.httpUrl, token: TOKEN });
  await latency('DO over HTTP (Node -> workerd -> DO, loopback)', (id) => api.assign('bench', 'inbox', [id]));
  const sqlite = SqliteUidStore.open(join(dir, 'uid.sqlite'));
  await latency('SqliteUidStore in-process (synchronous=FULL)', (id) => sqlite.assign('bench', 'inbox', [id]));
  await sqlite.close();
} finally {
  await w.stop();
}

// Node: the gateway alone in a child process (same embedded store over HTTP).
const child = spawn(process.execPath, ['--import', 'tsx', '-e', `
  const { startNodeGateway } = await import(${JSON.stringify(new URL('../../src/transport/node-gateway.ts', import.meta.url).pathname)});
  const { jmapBasicAuthenticator } = await import(${JSON.stringify(new URL('../../src/auth/jmap-basic.ts', import.meta.url).pathname)});
  const { MemoryUidStore } = await import(${JSON.stringify(new URL('../../src/uidmap/memory.ts', import.meta.url).pathname)});
  const g = await startNodeGateway({ host: '127.0.0.1', imapPort: 0, imapsPort: -1, dataDir: ${JSON.stringify(join(dir, 'node'))},
    authenticator: jmapBasicAuthenticator({ sessionUrl: ${JSON.stringify(`${http.url}/.well-known/jmap`)}, tenant: 't' }),
    uidStore: new MemoryUidStore() });
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
try {
  await perConnection('Node', child.pid!, port);
} finally {
  child.kill('SIGKILL');
  await http.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
