/**
 * Cyrus IMAP 3.6 (Debian packages, installed by `npm run peers` / .ci/peers.d/20-cyrus.sh) as a real, independent
 * JMAP server (RFC 8620/8621) for the interop suites: a throwaway instance per suite in a temp directory on free
 * loopback ports, with one sasldb user and its mailbox; HTTP Basic auth for JMAP, the same store over Cyrus's own
 * IMAP. Recipe and quirks: ../shared/peers/cyrus-jmap.md. Also the gateway test bed over it (same shape as
 * startTestBed in ./gateway.ts) and JMAP seeding (blob upload + Email/import in batches).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, closeSync, existsSync, openSync, unlinkSync, writeSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jmapBasicAuthenticator } from '../../src/auth/jmap-basic.ts';
import { startNodeGateway, type NodeGateway, type NodeGatewayOptions } from '../../src/transport/node-gateway.ts';
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';
import { RawClient } from './raw-client.ts';

const BIN = '/usr/lib/cyrus/bin';
const SASLPASSWD = '/usr/sbin/saslpasswd2';
const ADMIN = { user: 'cyrus', password: 'cyrus-admin-pw' };

/** True when Cyrus with JMAP is installed and we can start it (master must start as root, then drops to `cyrus`). */
export function cyrusInstalled(): boolean {
  return existsSync(`${BIN}/master`) && existsSync(`${BIN}/httpd`) && existsSync(SASLPASSWD) && process.getuid?.() === 0;
}

/**
 * Whether an interop suite may run. Without Cyrus: in CI (`CI` set) the suite registers one failing test (a
 * missing peer is an error there); elsewhere it prints a loud notice and registers nothing (never skip-as-pass).
 */
export function cyrusAvailable(suite: string): boolean {
  if (cyrusInstalled()) return true;
  const why = process.getuid?.() === 0 ? 'Cyrus not installed' : 'Cyrus needs root to start';
  if (process.env.CI) {
    test(`${suite}: Cyrus IMAP with JMAP is available (CI)`, () => assert.fail(`${why}: run npm run peers as root`));
  } else {
    process.stderr.write(`\n!!!!!!!! ${why}: interop suite ${suite} NOT RUN (npm run peers) !!!!!!!!\n\n`);
  }
  return false;
}

export interface CyrusInstance {
  imapPort: number;
  httpPort: number;
  /** RFC 8620 §2 session resource: `http://127.0.0.1:PORT/jmap/`. */
  jmapSessionUrl: string;
  user: string;
  password: string;
  dir: string;
  /** Kill master (and every process it started) and remove the directory. */
  stop(): Promise<void>;
}

/** A free loopback TCP port (bound and released: good enough on a test machine). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function imapdConf(d: string): string {
  return `configdirectory: ${d}/lib
partition-default: ${d}/spool
defaultpartition: default
sievedir: ${d}/sieve
servername: localhost
admins: ${ADMIN.user}
unixhierarchysep: yes
altnamespace: yes
hashimapspool: true
lmtpsocket: ${d}/run/socket/lmtp
idlesocket: ${d}/run/socket/idle
notifysocket: ${d}/run/socket/notify
sasl_pwcheck_method: auxprop
sasl_auxprop_plugin: sasldb
sasl_sasldb_path: ${d}/sasldb2
sasl_mech_list: PLAIN LOGIN
allowplaintext: yes
munge8bit: no
delete_mode: immediate
# delayed (Cyrus's default): with immediate, Email/changes can omit a destroyed email (docs/interop.md)
expunge_mode: delayed
httpmodules: jmap
httpallowcompress: no
conversations: yes
conversations_counted_flags: \\Draft \\Flagged $IsMailingList $IsNotification $HasAttachment
jmap_pushpoll: 2s
search_engine: xapian
search_index_headers: no
search_batchsize: 8192
defaultsearchtier: t1
t1searchpartition-default: ${d}/search
sync_log: 1
sync_log_channels: squatter
`;
}

function cyrusConf(d: string, imapPort: number, httpPort: number): string {
  return `START {
  recover cmd="ctl_cyrusdb -r -C ${d}/imapd.conf"
}
SERVICES {
  imap cmd="imapd -C ${d}/imapd.conf" listen="127.0.0.1:${imapPort}" prefork=1
  http cmd="httpd -C ${d}/imapd.conf" listen="127.0.0.1:${httpPort}" prefork=1
  lmtpunix cmd="lmtpd -C ${d}/imapd.conf" listen="${d}/run/socket/lmtp" prefork=0
}
EVENTS {
  checkpoint cmd="ctl_cyrusdb -c -C ${d}/imapd.conf" period=30
}
DAEMON {
  squatter cmd="squatter -C ${d}/imapd.conf -R"
}
`;
}

function run(cmd: string, args: string[], input?: string): void {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
}

async function waitFor(what: string, probe: () => Promise<boolean>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Cyrus: ${what} not ready after ${ms} ms`);
}

/** Pids of live processes whose command line names `dir` (Cyrus's children all carry `-C dir/imapd.conf`). */
function processesUsing(dir: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'latin1').includes(dir)) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const LOCK = join(tmpdir(), 'imap-jmap-gateway-cyrus.lock');

/**
 * One Cyrus instance at a time on this machine: two started at once by parallel suites made the second one's
 * services stop answering (cause not found). A lock file holding the owner's pid; a dead owner's lock is taken over.
 */
async function lockCyrus(): Promise<() => void> {
  for (;;) {
    try {
      const fd = openSync(LOCK, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => { try { unlinkSync(LOCK); } catch { /* already gone */ } };
    } catch {
      let owner = 0;
      try { owner = Number(readFileSync(LOCK, 'utf8')); } catch { continue; }
      let alive = owner > 0;
      try { if (alive) process.kill(owner, 0); } catch { alive = false; }
      if (!alive) { try { unlinkSync(LOCK); } catch { /* raced */ } continue; }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Start a private Cyrus (IMAP + JMAP over HTTP) with user `testuser` and its INBOX. */
export async function startCyrus(): Promise<CyrusInstance> {
  const unlock = await lockCyrus();
  const dir = mkdtempSync(join(tmpdir(), 'cyrus-'));
  for (const sub of ['spool/stage.', 'search', 'sieve', 'run/socket', 'log', ...['db', 'proc', 'socket', 'log', 'msg', 'user', 'quota', 'lock', 'ptclient'].map((x) => `lib/${x}`)]) {
    mkdirSync(join(dir, sub), { recursive: true });
  }
  const [imapPort, httpPort] = [await freePort(), await freePort()];
  writeFileSync(join(dir, 'imapd.conf'), imapdConf(dir));
  writeFileSync(join(dir, 'cyrus.conf'), cyrusConf(dir, imapPort, httpPort));
  const user = 'testuser';
  const password = 'interop-pass';
  run(SASLPASSWD, ['-p', '-c', '-f', join(dir, 'sasldb2'), '-u', 'localhost', user], `${password}\n`);
  run(SASLPASSWD, ['-p', '-c', '-f', join(dir, 'sasldb2'), '-u', 'localhost', ADMIN.user], `${ADMIN.password}\n`);
  run('chown', ['-R', 'cyrus:mail', dir]);
  chmodSync(dir, 0o755);
  // Foreground master (no -d): it is our child, and it drops to the cyrus user itself.
  const master: ChildProcess = spawn(`${BIN}/master`, ['-C', join(dir, 'imapd.conf'), '-M', join(dir, 'cyrus.conf'), '-p', join(dir, 'run/master.pid')], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => master.once('exit', () => resolve()));
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    master.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    for (const pid of processesUsing(dir)) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    master.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    unlock();
  };
  try {
    await waitFor('IMAP', async () => {
      const c = await RawClient.connect(imapPort);
      const ok = /^\* OK/.test(await c.line(2000));
      c.close();
      return ok;
    });
    const admin = await RawClient.connect(imapPort);
    await admin.line();
    const login = await admin.command('a', `LOGIN ${ADMIN.user} ${ADMIN.password}`);
    const create = await admin.command('b', `CREATE user/${user}`);
    admin.close();
    if (!/^a OK/.test(login.at(-1)!) || !/^b OK/.test(create.at(-1)!)) throw new Error(`Cyrus: creating the mailbox failed: ${[...login, ...create].join(' | ')}`);
    const jmapSessionUrl = `http://127.0.0.1:${httpPort}/jmap/`;
    await waitFor('JMAP', async () => (await fetch(jmapSessionUrl, { headers: { Authorization: basic(user, password) } })).status === 200);
    return { imapPort, httpPort, jmapSessionUrl, user, password, dir, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

function basic(user: string, pass: string): string {
  return 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
}

type MethodResponse = [string, Record<string, unknown>, string];

/** fetch with a few retries on network errors (Cyrus's httpd, prefork=1, sometimes resets a connection under load). */
async function fetchRetry(url: string, init: RequestInit, attempts = 4): Promise<Response> {
  for (let i = 1; ; i++) {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(20_000) });
    } catch (err) {
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 100 * i));
    }
  }
}

/** A minimal JMAP client for tests (what a webmail would do), independent of the gateway's own client. */
export class TestJmap {
  private constructor(
    private readonly auth: string,
    readonly session: { apiUrl: string; uploadUrl: string; downloadUrl: string; eventSourceUrl: string; capabilities: Record<string, Record<string, unknown>> },
    readonly accountId: string,
  ) {}

  static async connect(sessionUrl: string, user: string, pass: string): Promise<TestJmap> {
    const auth = basic(user, pass);
    const res = await fetchRetry(sessionUrl, { headers: { Authorization: auth } });
    if (res.status !== 200) throw new Error(`JMAP session: HTTP ${res.status}`);
    const s = (await res.json()) as TestJmap['session'] & { primaryAccounts: Record<string, string> };
    const abs = (u: string) => new URL(u, sessionUrl).href;
    return new TestJmap(auth, { ...s, apiUrl: abs(s.apiUrl) }, s.primaryAccounts['urn:ietf:params:jmap:mail']!);
  }

  /** RFC 8620 §2 core limit (e.g. maxObjectsInSet). */
  limit(name: string): number {
    return Number(this.session.capabilities['urn:ietf:params:jmap:core']?.[name] ?? 0);
  }

  async call(methodCalls: unknown[]): Promise<MethodResponse[]> {
    const res = await fetchRetry(this.session.apiUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: this.auth },
      body: JSON.stringify({ using: ['urn:ietf:params:jmap:core', 'urn:ietf:params:jmap:mail'], methodCalls }),
    });
    if (!res.ok) throw new Error(`JMAP ${res.status}: ${await res.text()}`);
    const out = ((await res.json()) as { methodResponses: MethodResponse[] }).methodResponses;
    const err = out.find((r) => r[0] === 'error');
    if (err) throw new Error(`JMAP method error: ${JSON.stringify(err)}`);
    return out;
  }

  /** The arguments of the single response to one call. */
  async one(name: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
    return (await this.call([[name, { accountId: this.accountId, ...args }, '0']]))[0]![1];
  }

  async upload(raw: Uint8Array): Promise<string> {
    const url = new URL(this.session.uploadUrl.replace('{accountId}', encodeURIComponent(this.accountId)), this.session.apiUrl).href;
    const res = await fetchRetry(url, { method: 'POST', headers: { 'Content-Type': 'message/rfc822', Authorization: this.auth }, body: raw as Uint8Array<ArrayBuffer> /* BodyInit wants an ArrayBuffer-backed view */ });
    if (res.status !== 200 && res.status !== 201) throw new Error(`upload: HTTP ${res.status}`);
    return ((await res.json()) as { blobId: string }).blobId;
  }

  async mailboxIdByRole(role: string): Promise<string> {
    const r = await this.one('Mailbox/get', { ids: null, properties: ['id', 'role'] });
    const m = (r.list as Array<{ id: string; role: string | null }>).find((x) => x.role === role);
    if (!m) throw new Error(`no mailbox with role ${role}`);
    return m.id;
  }

  /** Email ids of a mailbox, receivedAt ascending. */
  async idsIn(mailboxId: string): Promise<string[]> {
    const r = await this.one('Email/query', { filter: { inMailbox: mailboxId }, sort: [{ property: 'receivedAt', isAscending: true }], limit: 100_000 });
    return r.ids as string[];
  }
}

/**
 * Bare LF line ends to CRLF (as SMTP delivery would have them): Cyrus refuses bare newlines on Email/import
 * (`invalidEmail`, "Message contains bare newlines"), and the corpus files are stored with LF.
 */
export function toCrlf(m: Uint8Array): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < m.length; i++) {
    if (m[i] === 0x0a && (i === 0 || m[i - 1] !== 0x0d)) out.push(0x0d);
    out.push(m[i]!);
  }
  return new Uint8Array(out);
}

/** Drop byte-identical duplicates, keeping the first (Cyrus derives Email ids from content: they would merge). */
export function dedupe(messages: Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  return messages.filter((m) => {
    const h = createHash('sha1').update(m).digest('hex');
    if (seen.has(h)) return false;
    seen.add(h);
    return true;
  });
}

export interface SeedOptions {
  /** Mailbox role to import into (default `inbox`). */
  role?: string;
  /** Keywords of the i-th message. */
  keywords?: (i: number) => string[];
  /** receivedAt (UTCDate) of the i-th message; by default 2024-01-01T00:00:00Z plus i minutes, so the order is fixed. */
  receivedAt?: (i: number) => string;
  /** Uploads in flight at once. */
  concurrency?: number;
  /** Leave out messages the server refuses (returned in `refused`) instead of throwing. */
  skipRefused?: boolean;
}

/**
 * Seed a JMAP account: blob upload (RFC 8620 §6.1) of each message, then `Email/import` (RFC 8621 §4.8) in batches
 * of the server's maxObjectsInSet. Duplicates are dropped first. Returns the messages kept and their Email ids.
 */
export async function seedViaJmap(
  sessionUrl: string, user: string, pass: string, messages: Uint8Array[], opts: SeedOptions = {},
): Promise<{ messages: Uint8Array[]; ids: string[]; refused: Array<{ message: Uint8Array; error: unknown }> }> {
  const j = await TestJmap.connect(sessionUrl, user, pass);
  const kept = dedupe(messages);
  const mailboxId = await j.mailboxIdByRole(opts.role ?? 'inbox');
  const blobIds: string[] = new Array<string>(kept.length);
  let next = 0;
  await Promise.all(Array.from({ length: opts.concurrency ?? 2 }, async () => {
    while (next < kept.length) {
      const i = next++;
      blobIds[i] = await j.upload(kept[i]!);
    }
  }));
  const at = opts.receivedAt ?? ((i: number) => new Date(Date.UTC(2024, 0, 1) + i * 60_000).toISOString().replace('.000Z', 'Z'));
  const batch = Math.max(1, Math.min(j.limit('maxObjectsInSet') || 50, 50));
  const ids: string[] = [];
  const stored: Uint8Array[] = [];
  const refused: Array<{ message: Uint8Array; error: unknown }> = [];
  for (let start = 0; start < kept.length; start += batch) {
    const emails: Record<string, unknown> = {};
    for (let i = start; i < Math.min(kept.length, start + batch); i++) {
      emails[`m${i}`] = {
        blobId: blobIds[i], mailboxIds: { [mailboxId]: true }, receivedAt: at(i),
        keywords: Object.fromEntries((opts.keywords?.(i) ?? []).map((k) => [k, true])),
      };
    }
    const r = await j.one('Email/import', { emails });
    const created = (r.created ?? {}) as Record<string, { id: string }>;
    for (let i = start; i < Math.min(kept.length, start + batch); i++) {
      const c = created[`m${i}`];
      const error = (r.notCreated as Record<string, unknown> | null)?.[`m${i}`];
      if (!c && opts.skipRefused) { refused.push({ message: kept[i]!, error }); continue; }
      if (!c) throw new Error(`Email/import of message ${i} refused: ${JSON.stringify(error)}`);
      ids.push(c.id);
      stored.push(kept[i]!);
    }
  }
  return { messages: stored, ids, refused };
}

export interface CyrusBed {
  cyrus: CyrusInstance;
  gateway: NodeGateway;
  /** The gateway's cleartext IMAP port. */
  imapPort: number;
  user: string;
  password: string;
  /** A webmail-like JMAP client on the same account. */
  jmap: TestJmap;
  uidStore: SqliteUidStore;
  /** UID-store account key of the test user (`cyrus/<accountId>`). */
  accountKey: string;
  /** JMAP HTTP requests the gateway sent (counted through its fetch). */
  requests(): number;
  close(): Promise<void>;
}

/**
 * A gateway over a fresh Cyrus: jmapBasicAuthenticator pointed at Cyrus's JMAP session URL, a SQLite UID store,
 * free loopback ports. The same shape as startTestBed (./gateway.ts), with Cyrus in place of the embedded store.
 */
export async function startCyrusBed(o: {
  gateway?: Partial<NodeGatewayOptions>;
  /** Wrap the fetch the gateway uses to reach JMAP (to log requests), as startTestBed's `wrapFetch`. */
  wrapFetch?: (inner: typeof fetch) => typeof fetch;
} = {}): Promise<CyrusBed> {
  const cyrus = await startCyrus();
  const dir = mkdtempSync(join(tmpdir(), 'gw-cyrus-'));
  let count = 0;
  const toStore = o.wrapFetch ? o.wrapFetch((input, init) => fetch(input, init)) : fetch;
  try {
    const uidStore = SqliteUidStore.open(join(dir, 'uidmap.sqlite'));
    const gateway = await startNodeGateway({
      host: '127.0.0.1',
      imapPort: 0,
      imapsPort: -1,
      dataDir: dir,
      authenticator: jmapBasicAuthenticator({
        sessionUrl: cyrus.jmapSessionUrl, tenant: 'cyrus', timeoutMs: 10_000,
        fetch: (input, init) => { count++; return toStore(input, init); },
      }),
      uidStore,
      authFailureDelayMs: 50,
      // Cyrus 3.6's Email/get `headers` silently drops fields whose value is not UTF-8 (docs/interop.md, quirk 5):
      // header blocks must come from the raw message.
      headerSource: 'raw',
      ...o.gateway,
    });
    const jmap = await TestJmap.connect(cyrus.jmapSessionUrl, cyrus.user, cyrus.password);
    return {
      cyrus, gateway, imapPort: gateway.imapPort!, user: cyrus.user, password: cyrus.password, jmap, uidStore,
      accountKey: `cyrus/${jmap.accountId}`,
      requests: () => count,
      async close() {
        await gateway.close(1000);
        await uidStore.close();
        await cyrus.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await cyrus.stop();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
