/**
 * Issue 8 mixed load: 10 clients at once for a fixed time, each running sessions of LOGIN, SELECT INBOX, then
 * iterations of [UID FETCH of 20 messages' flags and headers, APPEND, UID STORE \Flagged, UID STORE \Deleted,
 * UID EXPUNGE of that message] (RFC 4315 UIDPLUS), LOGOUT after 5 iterations. Figure: tagged OKs per second over the
 * whole run. Each client removes what it appended, so INBOX ends as it began. A NO/BAD aborts the scenario.
 */
import { loadCorpus } from '../corpus.ts';
import { ImapClient } from '../imap-client.ts';
import { BENCH_PASSWORD, BENCH_USER } from '../targets.ts';
import type { Scenario, ScenarioContext } from '../scenario.ts';

const CLIENTS = 10;
const ITERATIONS_PER_SESSION = 5;
const enc = new TextEncoder();

/** A deterministic PRNG per client (mulberry-style LCG): the same ranges for both servers. */
const lcg = (seed: number) => () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 4294967296);

async function client(ctx: ScenarioContext, id: number, until: number, messages: Uint8Array[]): Promise<number> {
  const rnd = lcg(id + 1);
  let commands = 0;
  const ok = async (c: ImapClient, cmd: string | Uint8Array[]) => {
    const r = await c.command(cmd);
    if (r.status !== 'OK') throw new Error(`mixed load: ${typeof cmd === 'string' ? cmd.slice(0, 40) : 'APPEND'}: ${r.status} ${r.text}`);
    commands++;
    return r;
  };
  while (performance.now() < until) {
    const c = await ImapClient.connect(ctx.target.port);
    await ok(c, `LOGIN "${BENCH_USER}" "${BENCH_PASSWORD}"`);
    await ok(c, 'SELECT INBOX');
    for (let i = 0; i < ITERATIONS_PER_SESSION && performance.now() < until; i++) {
      const from = 1 + Math.floor(rnd() * Math.max(1, ctx.messages - 20));
      await ok(c, `UID FETCH ${from}:${Math.min(ctx.messages, from + 19)} (FLAGS RFC822.SIZE BODY.PEEK[HEADER.FIELDS (From Subject Date)])`);
      const m = messages[Math.floor(rnd() * messages.length)]!;
      const appended = await ok(c, [enc.encode(`APPEND INBOX {${m.length}+}\r\n`), m]);
      const uid = /\[APPENDUID \d+ (\d+)\]/i.exec(appended.text)?.[1];
      if (!uid) throw new Error(`mixed load: APPEND without APPENDUID: ${appended.text}`);
      await ok(c, `UID STORE ${uid} +FLAGS.SILENT (\\Flagged)`);
      await ok(c, `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`);
      await ok(c, `UID EXPUNGE ${uid}`);
    }
    await c.logout();
    commands++;
  }
  return commands;
}

async function mixed(ctx: ScenarioContext) {
  const seconds = ctx.smoke ? 2 : 10;
  const messages = loadCorpus({ kind: 'generated', messages: 50 }).messages;
  const before = await ctx.target.jmap?.();
  const t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => client(ctx, i, t0 + seconds * 1000, messages)));
  const elapsed = (performance.now() - t0) / 1000;
  const commands = counts.reduce((a, b) => a + b, 0);
  const after = await ctx.target.jmap?.();
  const jmap = before && after ? [{ command: `all ${commands} commands`, requests: after.requests - before.requests,
    bytesSent: after.bytesSent - before.bytesSent, bytesReceived: after.bytesReceived - before.bytesReceived }] : [];
  return { value: commands / elapsed, jmap, extra: { clients: CLIENTS, commands, seconds: elapsed } };
}

export const mixedLoad: Scenario = {
  id: 'mixed', title: `Mixed load, ${CLIENTS} clients (LOGIN, SELECT, FETCH, APPEND, STORE, EXPUNGE)`, unit: 'commands/s',
  better: 'higher', cold: false, goal: '>= Dovecot', run: mixed,
};
