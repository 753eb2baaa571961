/**
 * Issue 8 scenario 6, IDLE (RFC 2177):
 * - memory per idle connection: N connections each LOGIN, SELECT a small mailbox (`Idle`, 10 messages) and IDLE;
 *   figure = growth of the server's processes' proportional set size (Pss, all processes of the server: Dovecot runs
 *   one per connection) divided by N, on a server just started (gateway) or with no session open (Dovecot). The
 *   gateway's JMAP store is another process and not counted (it holds one push stream per account, not per session).
 * - delay from a change made elsewhere to the idling client's untagged FETCH: for the gateway, Email/set (keywords)
 *   sent straight to its JMAP server (a webmail's change, reaching the gateway by push); for Dovecot, UID STORE from
 *   a second IMAP session (its own change notification). Median of 5 changes per run.
 */
import { loadCorpus } from '../corpus.ts';
import { ImapClient } from '../imap-client.ts';
import { median } from '../runner.ts';
import { BENCH_PASSWORD, BENCH_USER, type Target } from '../targets.ts';
import { BenchJmap } from '../jmap.ts';
import type { Scenario, ScenarioContext } from '../scenario.ts';
import { GATEWAY_NODE_FLAGS } from '../../src/config/node-flags.ts';

const BOX = 'Idle';
const BOX_MESSAGES = 10;
const prepared = new WeakSet<Target>();
const login = `LOGIN "${BENCH_USER}" "${BENCH_PASSWORD}"`;

/** Creates `Idle` with 10 messages once per target (the mailbox stays across gateway restarts: it lives in the store). */
async function prepare(target: Target): Promise<void> {
  if (prepared.has(target)) return;
  const c = await ImapClient.connect(target.port);
  await c.ok(login);
  const created = await c.command(`CREATE ${BOX}`);
  if (created.status === 'OK') {
    const enc = new TextEncoder();
    for (const m of loadCorpus({ kind: 'generated', messages: BOX_MESSAGES }).messages) {
      const r = await c.command([enc.encode(`APPEND ${BOX} {${m.length}+}\r\n`), m]); // LITERAL+ (RFC 7888)
      if (r.status !== 'OK') throw new Error(`APPEND to ${BOX}: ${r.status} ${r.text}`);
    }
  }
  await c.logout();
  prepared.add(target);
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How the gateway's process runs, said in the titles: its V8 flags (those of `npm start`) shape its memory. */
const RUN_AS = GATEWAY_NODE_FLAGS.length ? `; gateway: node ${GATEWAY_NODE_FLAGS.join(' ')}, as npm start` : '';

async function idleMemory(ctx: ScenarioContext, n: number, tls: boolean) {
  const port = tls ? ctx.target.tlsPort : ctx.target.port;
  if (port === undefined) throw new Error(`${ctx.target.name} has no TLS port`);
  await prepare(ctx.target);
  await settle(500);
  const pss = () => { if (!ctx.target.pssKB) throw new Error(`${ctx.target.name}: memory not measurable`); return ctx.target.pssKB(); };
  const before = pss();
  const jmapBefore = await ctx.target.jmap?.();
  const clients: ImapClient[] = [];
  let next = 0;
  const open = async () => {
    while (next < n) {
      next++;
      const c = await ImapClient.connect(port, '127.0.0.1', { tls });
      clients.push(c);
      await c.ok(login);
      await c.ok(`SELECT ${BOX}`);
      await c.idle();
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: Math.min(n, 50) }, open));
  const setupMs = performance.now() - t0;
  await settle(1000);
  const after = pss();
  const jmapAfter = await ctx.target.jmap?.();
  for (const c of clients) c.close();
  await settle(tls ? 1000 : 300);
  const jmap = jmapBefore && jmapAfter ? [{ command: `${n} x (LOGIN, SELECT, IDLE)`, requests: jmapAfter.requests - jmapBefore.requests,
    bytesSent: jmapAfter.bytesSent - jmapBefore.bytesSent, bytesReceived: jmapAfter.bytesReceived - jmapBefore.bytesReceived }] : [];
  // A negative or zero growth (the heap had room already) is reported as a tiny positive figure, never hidden.
  return { value: Math.max((after - before) / n, 0.001), jmap, extra: { connections: n, pssBeforeKB: before, pssAfterKB: after, setupMs } };
}

/** Makes one visible change to message 1 of `Idle` from outside the idling session; `on` alternates the flag. */
async function changer(target: Target): Promise<{ change(on: boolean): Promise<void>; close(): Promise<void> }> {
  if (target.jmapAccount) {
    const j = await BenchJmap.connect(target.jmapAccount);
    const id = (await j.listMailbox(await j.mailboxId(BOX), null)).ids[0]!;
    return { change: async (on) => { await j.one('Email/set', { update: { [id]: { 'keywords/$flagged': on ? true : null } } }); }, close: async () => {} };
  }
  const c = await ImapClient.connect(target.port);
  await c.ok(login);
  await c.ok(`SELECT ${BOX}`);
  return { change: async (on) => { await c.ok(`STORE 1 ${on ? '+' : '-'}FLAGS.SILENT (\\Flagged)`); }, close: () => c.logout() };
}

async function idleDelay(ctx: ScenarioContext) {
  await prepare(ctx.target);
  const idler = await ImapClient.connect(ctx.target.port);
  await idler.ok(login);
  await idler.ok(`SELECT ${BOX}`);
  await idler.ok(`STORE 1 -FLAGS.SILENT (\\Flagged)`);
  const other = await changer(ctx.target);
  const delays: number[] = [];
  for (let i = 0; i < 5; i++) {
    const on = i % 2 === 0;
    const idling = await idler.idle();
    const seen = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no untagged FETCH within 30 s of the change')), 30_000);
      idler.onUntagged = (line) => {
        if (/^\* 1 FETCH \(.*FLAGS \(([^)]*)\)/i.test(line) && /\\Flagged/i.test(line) === on) { clearTimeout(timer); resolve(); }
      };
    });
    const t0 = performance.now();
    await other.change(on);
    await seen;
    delays.push(performance.now() - t0);
    idler.onUntagged = null;
    await idling.done();
  }
  await other.close();
  await idler.logout();
  return { value: median(delays), jmap: [], extra: { changes: delays.length } };
}

export const idleMemory1k: Scenario = {
  id: 'idle-memory-1k', title: `IDLE, memory per idle connection, 1,000 cleartext connections (10 in smoke${RUN_AS})`, unit: 'KB/conn', better: 'lower',
  cold: true, goal: '<= 16 KB (at 10,000)', run: (ctx) => idleMemory(ctx, ctx.smoke ? 10 : 1000, false),
};

export const idleMemoryTls1k: Scenario = {
  id: 'idle-memory-tls-1k', title: `IDLE, memory per idle connection, 1,000 TLS connections (10 in smoke${RUN_AS})`, unit: 'KB/conn', better: 'lower',
  cold: true, goal: '<= 64 KB over TLS', targets: ['gateway'], run: (ctx) => idleMemory(ctx, ctx.smoke ? 10 : 1000, true),
};

export const idleMemory10k: Scenario = {
  id: 'idle-memory-10k', title: `IDLE, memory per idle connection, 10,000 cleartext connections (10 in smoke${RUN_AS})`, unit: 'KB/conn', better: 'lower',
  cold: true, goal: '<= 16 KB', targets: ['gateway'], maxRounds: 2, run: (ctx) => idleMemory(ctx, ctx.smoke ? 10 : 10_000, false),
};

export const idleDelayScenario: Scenario = {
  id: 'idle-delay', title: 'IDLE, change elsewhere to untagged FETCH (gateway: JMAP Email/set; Dovecot: another session)',
  unit: 'ms', better: 'lower', cold: false, goal: 'none yet', run: idleDelay,
};
