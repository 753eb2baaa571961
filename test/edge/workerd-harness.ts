/**
 * Test harness: the Worker (src/worker.ts, bundled with esbuild) in the pinned `workerd` binary, with a generated
 * Cap'n Proto config: an HTTP socket (health + UID store API), a TCP socket into `connect()` (IMAP), and Durable
 * Object storage on disk in a directory that survives a restart. Ports are free loopback ports.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The native binary of the pinned `workerd` package (>= 1.20260807: inbound TCP without `--experimental`). */
export const WORKERD_BINARY: string = (createRequire(import.meta.url)('workerd') as { default: string }).default;

const bundles = new Map<string, Promise<string>>();

/** A Worker entry (default src/worker.ts) as one ES module; `cloudflare:workers` stays a runtime import. Built once per process. */
export function bundleWorker(entry = join(ROOT, 'src/worker.ts')): Promise<string> {
  let bundled = bundles.get(entry);
  if (!bundled) {
    bundled = build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      mainFields: ['module', 'main'],
      conditions: ['workerd', 'worker', 'browser'],
      external: ['cloudflare:workers'],
      logLevel: 'silent',
    }).then((r) => r.outputFiles[0]!.text);
    bundles.set(entry, bundled);
  }
  return bundled;
}

/** A free TCP port on loopback (closed again before workerd binds it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface WorkerdOptions {
  /** Text bindings (wrangler `[vars]` / secrets) given to the Worker. */
  vars: Record<string, string>;
  /** Where Durable Object data lives; a fresh temp dir when absent. Reuse it to restart on the same data. */
  storageDir?: string;
  /** Open the IMAP TCP socket (default true). */
  imap?: boolean;
  /**
   * A Workers KV namespace bound as TENANTS: key -> value. workerd's KV binding reads `GET /<key>` from a service;
   * here a read-only disk service over a directory holding one file per key (the local storage of the namespace).
   */
  kv?: Record<string, string>;
  /** Another Worker entry module to run (it must export UidStoreDO and answer GET /health); default src/worker.ts. */
  entry?: string;
}

export interface WorkerdInstance {
  httpUrl: string;
  imapPort: number;
  storageDir: string;
  process: ChildProcess;
  /** What the Worker logged (console.*) and workerd printed, the last 64 kB. */
  logs(): string;
  /** Kill workerd with `signal` (default SIGTERM) and wait for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

const capnpString = (s: string): string => JSON.stringify(s);

function configText(httpPort: number, imapPort: number, vars: Record<string, string>, storage: string, imap: boolean, kvDir: string | null): string {
  const bindings = [
    '(name = "UID_STORE", durableObjectNamespace = "UidStoreDO")',
    ...Object.entries(vars).map(([k, v]) => `(name = ${capnpString(k)}, text = ${capnpString(v)})`),
    ...(kvDir ? ['(name = "TENANTS", kvNamespace = "tenants-kv")'] : []),
  ];
  const sockets = [`(name = "http", address = "127.0.0.1:${httpPort}", http = (), service = "main")`];
  if (imap) sockets.push(`(name = "imap", address = "127.0.0.1:${imapPort}", tcp = (), service = "main")`);
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .mainWorker),
    (name = "do-disk", disk = (path = ${capnpString(storage)}, writable = true)),
    (name = "net", network = (allow = ["public", "private", "local"])),${kvDir ? `
    (name = "tenants-kv", disk = (path = ${capnpString(kvDir)}, writable = false)),` : ''}
  ],
  sockets = [${sockets.join(', ')}],
);
const mainWorker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-04-01",
  bindings = [${bindings.join(', ')}],
  durableObjectNamespaces = [(className = "UidStoreDO", uniqueKey = "imap-gateway-uid-store", enableSql = true)],
  durableObjectStorage = (localDisk = "do-disk"),
  globalOutbound = "net",
);
`;
}

async function waitForHealth(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}): ${stderr()}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`workerd did not come up: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Start workerd serving the Worker; resolves once `/health` answers. */
export async function startWorkerd(o: WorkerdOptions): Promise<WorkerdInstance> {
  const dir = mkdtempSync(join(tmpdir(), 'workerd-'));
  const storageDir = o.storageDir ?? join(dir, 'do');
  mkdirSync(storageDir, { recursive: true });
  const [httpPort, imapPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'worker.js'), await bundleWorker(o.entry));
  let kvDir: string | null = null;
  if (o.kv) {
    kvDir = join(dir, 'kv');
    mkdirSync(kvDir, { recursive: true });
    for (const [k, v] of Object.entries(o.kv)) writeFileSync(join(kvDir, k), v);
  }
  writeFileSync(join(dir, 'config.capnp'), configText(httpPort, imapPort, o.vars, storageDir, o.imap ?? true, kvDir));
  const child = spawn(WORKERD_BINARY, ['serve', join(dir, 'config.capnp')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  const collect = (d: Buffer): void => { err = (err + d.toString()).slice(-65_536); };
  child.stderr!.on('data', collect);
  child.stdout!.on('data', collect);
  const httpUrl = `http://127.0.0.1:${httpPort}`;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
    rmSync(join(dir, 'worker.js'), { force: true });
    if (!o.storageDir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(httpUrl, child, () => err.slice(-4000));
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  }
  return { httpUrl, imapPort, storageDir, process: child, logs: () => err, stop };
}
