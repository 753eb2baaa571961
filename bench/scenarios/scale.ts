/**
 * Issue 4 "Scale": a generated mailbox of 100,000 messages (seeded straight into the embedded store's SQLite by
 * bench/store-child.ts, not over IMAP), gateway only. Cold and warm SELECT, STATUS and `UID FETCH 1:* FLAGS` in fresh
 * sessions, with the JMAP requests each made, plus the gateway's cost per message: UID map and message cache on disk
 * (SQLite page_count x page_size / messages) and process memory growth at the first SELECT (Pss / messages). One
 * folder listing (maxRounds 1) fills the message cache so its size per message can be read.
 */
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { expectFetches, MeasuredSession, THUNDERBIRD_LISTING, type Scenario, type ScenarioContext } from '../scenario.ts';
import type { Target } from '../targets.ts';

/** Bytes of a SQLite database's pages (WAL included: a reader sees the committed pages), 0 if absent. */
function sqliteBytes(path: string): number {
  if (!existsSync(path)) return 0;
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return Number(db.pragma('page_count', { simple: true })) * Number(db.pragma('page_size', { simple: true }));
  } finally {
    db.close();
  }
}

function diskPerMessage(target: Target, messages: number): Record<string, number> {
  const f = target.files?.();
  if (!f) return {};
  return { uidmapBytesPerMessage: sqliteBytes(f.uidmap) / messages, cacheBytesPerMessage: sqliteBytes(f.cache) / messages };
}

async function select(ctx: ScenarioContext, cold: boolean) {
  const before = ctx.target.pssKB?.() ?? 0;
  const s = await MeasuredSession.open(ctx.target);
  await s.login();
  const r = await s.select(ctx.messages);
  await s.close();
  const extra = cold
    ? { ...diskPerMessage(ctx.target, ctx.messages), memoryBytesPerMessage: (((ctx.target.pssKB?.() ?? 0) - before) * 1024) / ctx.messages }
    : undefined;
  return { value: r.ms, jmap: s.jmap, ...(extra ? { extra } : {}) };
}

async function status(ctx: ScenarioContext) {
  const s = await MeasuredSession.open(ctx.target);
  await s.login();
  const r = await s.run('STATUS INBOX', 'STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN)', { keepLines: true });
  const messages = Number(/MESSAGES (\d+)/i.exec(r.lines.join(' '))?.[1]);
  if (messages !== ctx.messages) throw new Error(`STATUS INBOX: MESSAGES ${messages}, expected ${ctx.messages}`);
  await s.close();
  return { value: r.ms, jmap: s.jmap };
}

async function flags(ctx: ScenarioContext) {
  const s = await MeasuredSession.open(ctx.target);
  await s.login();
  await s.select(ctx.messages);
  const r = await s.run('UID FETCH 1:* FLAGS', 'UID FETCH 1:* FLAGS');
  expectFetches(r, ctx.messages, 'UID FETCH 1:* FLAGS');
  await s.close();
  return { value: r.ms, jmap: s.jmap };
}

async function listing(ctx: ScenarioContext) {
  const s = await MeasuredSession.open(ctx.target);
  await s.login();
  await s.select(ctx.messages);
  const r = await s.run('UID FETCH 1:* (folder listing)', THUNDERBIRD_LISTING);
  expectFetches(r, ctx.messages, 'folder listing');
  await s.close();
  return { value: r.ms, jmap: s.jmap, extra: diskPerMessage(ctx.target, ctx.messages) };
}

const scenario = (id: string, title: string, cold: boolean, run: Scenario['run'], extra: Partial<Scenario> = {}): Scenario => ({
  id, title, unit: 'ms', better: 'lower', cold, goal: 'none yet', targets: ['gateway'], run, ...extra,
});

export const SCALE_SCENARIOS: Scenario[] = [
  scenario('scale-select-cold', 'SELECT INBOX, cold (first sight: full Email/query)', true, (ctx) => select(ctx, true)),
  scenario('scale-select-warm', 'SELECT INBOX, warm (fresh session)', false, (ctx) => select(ctx, false), { goal: '<= 5 ms', settle: true }),
  scenario('scale-status', 'STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN), warm', false, status, { settle: true }),
  scenario('scale-flags', 'UID FETCH 1:* FLAGS, warm (after SELECT)', false, flags, { settle: true }),
  scenario('scale-listing', 'Folder listing FETCH (Thunderbird headers), first time', false, listing, { maxRounds: 1 }),
];
