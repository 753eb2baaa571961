/**
 * Issue 4 ("warm" includes before a restart) on the Durable Object runtimes: the gateway on workerd and a Node
 * gateway with `--do-cache` keep the keyword cache and STATUS's exact UNSEEN counts in the account's object
 * (src/edge/do-keyword-store.ts), so after a restart (workerd SIGKILLed and started on the same storage; a new Node
 * process with an empty data directory) the first `UID FETCH 1:* FLAGS` of a big mailbox costs one `Email/changes`
 * (RFC 8620 §5.2) instead of reading every email's keywords again (DESIGN.md rule 9). Stored keywords are trusted
 * only through that `Email/changes`: a keyword changed while the gateway was down is read again, that email alone.
 * JMAP requests are counted by a proxy in front of the embedded JMAP store.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, request, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStore, type EmbeddedStore } from '../../src/embedded/index.ts';
import { httpKeywordAccess } from '../../src/edge/http-keyword-store.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { startWorkerd, type WorkerdInstance } from './workerd-harness.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const N = 1_000; // a big mailbox: well above KEYWORD_CACHE_MIN (100), more than one Email/get when read whole
const TOKEN = 'keyword-restart-token';
const USERS = { edge: ['erin@example.test', 'erin password'], node: ['nils@example.test', 'nils password'] } as const;
const dir = mkdtempSync(join(tmpdir(), 'edge-kw-restart-'));

type Call = [string, Record<string, unknown>, string];
let store: EmbeddedStore;
let jmapHttp: { url: string; close(): Promise<void> };
let proxy: Server;
let proxyUrl = '';
let requests: Call[][] = [];
let w: WorkerdInstance;
const accounts = { edge: '', node: '' };
const ids = { edge: [] as string[], node: [] as string[] };

/** The keywords each message was imported with: a third \Seen, a third \Seen \Flagged, a third none. */
const imported = (i: number): string[] => [['$seen'], ['$seen', '$flagged'], []][i % 3]!;
/** Messages without $seen (RFC 9051 §6.3.11 UNSEEN): i % 3 == 2. */
const UNSEEN = Math.floor((N + 1) / 3);
const flagNames: Record<string, string> = { $seen: '\\Seen', $flagged: '\\Flagged', $answered: '\\Answered', $draft: '\\Draft' };

before(async () => {
  store = openEmbeddedStore({ dbPath: join(dir, 'jmap.sqlite') });
  const t0 = Date.UTC(2024, 0, 1);
  for (const side of ['edge', 'node'] as const) {
    const [user, pass] = USERS[side];
    accounts[side] = store.createUser(user, pass).accountId;
    for (let i = 0; i < N; i++) {
      const raw = new TextEncoder().encode(`From: s${i}@example.org\r\nSubject: ${side} ${i}\r\nMessage-ID: <${side}${i}@example.org>\r\n\r\nbody ${i}\r\n`);
      ids[side].push(store.importMessage(user, 'inbox', raw, { receivedAt: new Date(t0 + i * 1000), keywords: imported(i) }).emailId);
    }
  }
  jmapHttp = await store.listen(0, '127.0.0.1');
  // The proxy forwards everything (Host included: the session's apiUrl then points at the proxy) and records the
  // method calls of each JMAP API request.
  const upstream = new URL(jmapHttp.url);
  proxy = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url?.endsWith('/jmap/api')) requests.push((JSON.parse(body.toString('utf8')) as { methodCalls: Call[] }).methodCalls);
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  w = await startWorkerd({ vars: workerdVars(), storageDir: join(dir, 'do') });
});
after(async () => {
  await w.stop();
  proxy.closeAllConnections(); // workerd and the gateways keep connections alive
  await new Promise((r) => proxy.close(r));
  await jmapHttp.close();
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

function workerdVars(): Record<string, string> {
  return { JMAP_SESSION_URL: `${proxyUrl}/.well-known/jmap`, TENANT: 'edge', TLS_TERMINATED: 'true', AUTH_FAILURE_DELAY_MS: '0', UID_API_TOKEN: TOKEN };
}

async function restartWorkerd(): Promise<void> {
  await w.stop('SIGKILL');
  w = await startWorkerd({ vars: workerdVars(), storageDir: w.storageDir });
}

async function session(port: number, [user, pass]: readonly [string, string]): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.line(15_000);
  assert.match((await c.command('l', `LOGIN "${user}" "${pass}"`, 15_000)).at(-1)!, /^l OK/);
  assert.match((await c.command('s', 'SELECT INBOX', 15_000)).at(-1)!, /^s OK/);
  return c;
}

/** A command's answer and the JMAP requests (method names joined by "+") it cost. */
async function run(c: RawClient, command: string): Promise<{ lines: string[]; calls: Call[][]; methods: string[] }> {
  requests = [];
  const lines = await c.command('f', command, 60_000);
  assert.match(lines.at(-1)!, /^f OK/, lines.slice(-3).join('\n'));
  const calls = [...requests];
  return { lines, calls, methods: calls.map((r) => r.map((call) => call[0]).join('+')) };
}

/** For the log: requests, method calls and email ids read. */
const describe = (calls: Call[][]): string =>
  `${calls.length} JMAP request(s), ${calls.flat().length} method call(s) (${calls.map((r) => r.map((c) => c[0]).join('+')).join(', ')}), ` +
  `${calls.flat().filter((c) => c[0] === 'Email/get').reduce((n, c) => n + ((c[1].ids as string[] | undefined)?.length ?? 0), 0)} email ids read`;

/** UID -> its flags (sorted) in a FETCH answer. */
function flagsOf(lines: string[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of lines.filter((x) => /^\* \d+ FETCH /.test(x))) {
    out.set(Number(/UID (\d+)/.exec(l)![1]), /FLAGS \(([^)]*)\)/.exec(l)![1]!.split(' ').filter(Boolean).sort().join(' '));
  }
  return out;
}

/** What FLAGS must show for keywords `k(i)` of the i-th imported message (UID i + 1, arrival order). */
function expected(k: (i: number) => string[] = imported): Map<number, string> {
  return new Map(Array.from({ length: N }, (_, i) => [i + 1, k(i).map((x) => flagNames[x]!).sort().join(' ')] as const));
}

/** Waits until the account's object holds keywords for all N emails (the cache writes them as it goes). */
async function storedKeywords(accountKey: string): Promise<void> {
  const access = httpKeywordAccess({ baseUrl: w.httpUrl, token: TOKEN });
  const key = `${accountKey}\u0000${proxyUrl}/.well-known/jmap`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    const snap = await access.load(accountKey, key);
    if ((snap?.groups.reduce((n, [, g]) => n + g.length, 0) ?? 0) >= N) return;
    if (Date.now() > deadline) throw new Error(`keywords of ${accountKey} not stored: ${JSON.stringify(snap?.state)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function setKeywords(side: 'edge' | 'node', update: Record<string, Record<string, boolean | null>>): Promise<void> {
  const [user, pass] = USERS[side];
  const res = await fetch(`${jmapHttp.url}/jmap/api`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Basic ' + btoa(`${user}:${pass}`) },
    body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls: [['Email/set', { accountId: accounts[side], update }, 's']] }),
  });
  const [, r] = ((await res.json()) as { methodResponses: Call[] }).methodResponses[0]!;
  assert.deepEqual(Object.keys(r.updated as object).sort(), Object.keys(update).sort());
}

test('workerd: after a SIGKILL and restart, the first UID FETCH 1:* FLAGS costs one Email/changes; a change made meanwhile is read alone', async () => {
  const c = await session(w.imapPort, USERS.edge);
  const cold = await run(c, 'UID FETCH 1:* FLAGS');
  assert.deepEqual(flagsOf(cold.lines), expected());
  const status = await run(c, 'STATUS INBOX (UNSEEN)');
  assert.deepEqual(status.lines.slice(0, 1), [`* STATUS INBOX (UNSEEN ${UNSEEN})`]);
  await storedKeywords(`edge/${accounts.edge}`);
  console.log(`# workerd, first FETCH FLAGS of a fresh gateway (nothing stored): ${describe(cold.calls)}`);
  c.close();

  await restartWorkerd();
  const d = await session(w.imapPort, USERS.edge);
  const flags = await run(d, 'UID FETCH 1:* FLAGS');
  console.log(`# workerd, first FETCH FLAGS after the restart: ${describe(flags.calls)}`);
  assert.deepEqual(flagsOf(flags.lines), expected());
  assert.deepEqual(flags.methods, ['Email/changes'], 'keywords from the account\'s object, brought forward by Email/changes');
  const again = await run(d, 'STATUS INBOX (UNSEEN)');
  assert.deepEqual(again.lines.slice(0, 1), status.lines.slice(0, 1));
  assert.ok(!again.calls.flat().some((call) => call[0] === 'Email/query'), `the count at this state is remembered: ${again.methods.join(', ')}`);
  d.close();

  // Changed in JMAP while the gateway is down: those two emails alone are read again.
  await w.stop('SIGKILL');
  await setKeywords('edge', { [ids.edge[5]!]: { 'keywords/$flagged': true }, [ids.edge[0]!]: { 'keywords/$seen': null } });
  w = await startWorkerd({ vars: workerdVars(), storageDir: w.storageDir });
  const e = await session(w.imapPort, USERS.edge);
  const changed = await run(e, 'UID FETCH 1:* FLAGS');
  const want = expected((i) => (i === 5 ? ['$flagged'] : i === 0 ? [] : imported(i)));
  assert.deepEqual(flagsOf(changed.lines), want);
  assert.deepEqual(changed.methods, ['Email/changes', 'Email/get']);
  assert.deepEqual(changed.calls[1]!.flatMap((call) => call[1].ids as string[]).sort(), [ids.edge[0]!, ids.edge[5]!].sort());
  e.close();
});

/** A Node gateway process with `--do-cache` on a fresh data directory; resolves with its IMAP port. */
async function nodeGateway(dataDir: string): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/node.ts', '--data-dir', dataDir, '--imap-port', '0', '--imaps-port=-1',
    '--jmap-url', `${proxyUrl}/.well-known/jmap`, '--do-store-url', w.httpUrl, '--do-store-token', TOKEN, '--do-cache', 'true',
    '--auth-failure-delay-ms', '0', '--log-level', 'warn'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 30_000;
  while (!/IMAP \(cleartext \+ STARTTLS\): 127\.0\.0\.1:(\d+)/.test(out) || !/Ctrl-C/.test(out)) {
    if (Date.now() > deadline || child.exitCode !== null) {
      child.kill('SIGKILL');
      throw new Error(`gateway did not start:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port: Number(/IMAP \(cleartext \+ STARTTLS\): 127\.0\.0\.1:(\d+)/.exec(out)![1]), child };
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('Node --do-cache: a new gateway process (empty data directory) answers its first UID FETCH 1:* FLAGS with one Email/changes', async () => {
  const first = await nodeGateway(join(dir, 'gw1'));
  try {
    const c = await session(first.port, USERS.node);
    const cold = await run(c, 'UID FETCH 1:* FLAGS');
    assert.deepEqual(flagsOf(cold.lines), expected());
    await storedKeywords(`default/${accounts.node}`);
    console.log(`# Node --do-cache, first FETCH FLAGS of a fresh gateway (nothing stored): ${describe(cold.calls)}`);
    c.close();
  } finally {
    await kill(first.child);
  }
  const second = await nodeGateway(join(dir, 'gw2'));
  try {
    const d = await session(second.port, USERS.node);
    const flags = await run(d, 'UID FETCH 1:* FLAGS');
    console.log(`# Node --do-cache, first FETCH FLAGS of the new process: ${describe(flags.calls)}`);
    assert.deepEqual(flagsOf(flags.lines), expected());
    assert.deepEqual(flags.methods, ['Email/changes']);
    d.close();
  } finally {
    await kill(second.child);
  }
});
