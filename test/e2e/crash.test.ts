/**
 * Crash safety (issue 4, DESIGN.md rules 1, 2, 10): a gateway process SIGKILLed at each step of a first sync,
 * APPEND, MOVE and EXPUNGE (failpoints of test/sync/gateway-child.ts: right after a JMAP write was answered, or
 * right after the UID store committed, before the client heard anything), then seeded random kills. After each,
 * a fresh process on the same UID store must agree with JMAP: no UID for two messages, no reused UID, UIDVALIDITY
 * unchanged, and a client that reselects sees exactly the mailbox's messages.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RawClient } from '../helpers/raw-client.ts';
import { checkMapInvariants, dumpMap, jmapIds, login, mailboxIdOf, message, startCluster, type Cluster, type MapDump } from '../sync/procs.ts';

let cluster: Cluster;
let seq = 0;

before(async () => {
  cluster = await startCluster();
  for (let i = 0; i < 6; i++) cluster.store.importMessage('alice@example.test', 'inbox', new TextEncoder().encode(message(`seed-${i}`)));
  for (let i = 0; i < 3; i++) cluster.store.importMessage('alice@example.test', 'sent', new TextEncoder().encode(message(`sent-${i}`)));
});
after(() => cluster.close());

/** Operations a client runs against the doomed process (it may die at any line). */
const OPS: Record<string, (c: RawClient) => Promise<void>> = {
  select: async (c) => void await c.command('s', 'SELECT INBOX'),
  selectSent: async (c) => void await c.command('s', 'SELECT Sent'),
  append: async (c) => {
    const body = message(`ap-${seq++}`);
    c.write(`a APPEND INBOX {${body.length}}\r\n`);
    await c.line();
    c.write(body + '\r\n');
    await c.until('a');
  },
  move: async (c) => {
    await c.command('s', 'SELECT INBOX');
    await c.command('m', 'MOVE 1 Archive');
  },
  expunge: async (c) => {
    await c.command('s', 'SELECT INBOX');
    await c.command('d', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    await c.command('e', 'EXPUNGE');
  },
};

/** Run `op` on a process armed with `failpoint`; it must die by SIGKILL. Then check the map against JMAP. */
async function crashAt(failpoint: string, op: keyof typeof OPS, boxes: Boxes = DEFAULT_BOXES): Promise<void> {
  const before = dumpMap(cluster.uidmap);
  const doomed = await cluster.gateway(failpoint);
  const c = await login(doomed.port);
  await OPS[op]!(c).catch(() => undefined); // the connection drops when the process dies
  c.close();
  const timeout = new Promise<string>((r) => setTimeout(() => r('still running'), 5000).unref());
  assert.equal(await Promise.race([doomed.exited, timeout]), 'SIGKILL', `${failpoint} during ${op}: the process was killed there`);
  await verify(before, boxes);
}

type Boxes = ReadonlyArray<readonly [string, string]>;
const DEFAULT_BOXES: Boxes = [['INBOX', 'inbox'], ['Archive', 'archive']];

/** A fresh process: the client resyncs; the map agrees with JMAP and with what was issued before. */
async function verify(before: MapDump, boxes: Boxes = DEFAULT_BOXES): Promise<void> {
  const g = await cluster.gateway();
  const c = await login(g.port);
  for (const [name, role] of boxes) {
    const sel = await c.command('s', `SELECT ${name}`);
    assert.match(sel.at(-1)!, /^s OK/);
    const id = await mailboxIdOf(cluster, role);
    const prior = before.mailboxes.get(id);
    if (prior) assert.ok(sel.some((l) => l.includes(`[UIDVALIDITY ${prior.uidValidity}]`)), `${name}: UIDVALIDITY unchanged`);
    const uids = (await c.command('f', 'UID FETCH 1:* (UID)')).filter((l) => /^\* \d+ FETCH/.test(l)).map((l) => Number(/UID (\d+)/.exec(l)![1]));
    const box = dumpMap(cluster.uidmap).mailboxes.get(id)!;
    assert.deepEqual(new Set(box.live.values()), await jmapIds(cluster, role), `${name}: the map holds exactly the mailbox's emails`);
    assert.deepEqual(uids, [...box.live.keys()].sort((a, b) => a - b), `${name}: the client sees the map's UIDs`);
  }
  c.close();
  await g.stop();
  checkMapInvariants(dumpMap(cluster.uidmap), before);
}

test('SIGKILL during a first sync: after the listing, and after the commit', async () => {
  await crashAt('store:commitSync', 'select', [['INBOX', 'inbox']]); // INBOX was never synced
  await crashAt('jmap:Email/query', 'selectSent', [['INBOX', 'inbox'], ['Sent', 'sent']]); // nor Sent
});

test('SIGKILL during APPEND: after Email/import, and after the UIDs were assigned', async () => {
  await crashAt('jmap:Email/import', 'append');
  await crashAt('store:assign', 'append');
});

test('SIGKILL during MOVE: after the mailboxIds patch, after the destination UIDs, after the source expunge', async () => {
  await crashAt('jmap:Email/set', 'move');
  await crashAt('store:assign', 'move');
  await crashAt('store:expunge', 'move');
});

test('SIGKILL during EXPUNGE: after the JMAP destroy, and after the store expunge', async () => {
  await crashAt('jmap:Email/set', 'expunge');
  await crashAt('store:expunge', 'expunge');
});

test('seeded random SIGKILLs (bounded): the map and JMAP agree after each', async () => {
  let a = 20240601; // mulberry32: reproducible
  const rnd = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const points = ['jmap:Email/import', 'jmap:Email/set', 'store:assign', 'store:expunge', 'store:commitSync', 'store:before-assign', 'store:before-expunge'];
  const ops = ['append', 'move', 'expunge'] as const;
  let kills = 0;
  for (let round = 0; round < 5; round++) { // bounded: ~1 s per round (two process starts)
    const op = ops[Math.floor(rnd() * ops.length)]!;
    const point = points[Math.floor(rnd() * points.length)]!;
    const before = dumpMap(cluster.uidmap);
    const g = await cluster.gateway(point);
    const c = await login(g.port);
    await OPS[op]!(c).catch(() => undefined);
    c.close();
    // Not every op reaches every point: a process that survived is stopped normally.
    const ended = await Promise.race([g.exited, new Promise<string>((r) => setTimeout(() => r('running'), 300).unref())]);
    if (ended === 'SIGKILL') kills++;
    else await g.stop();
    await verify(before);
  }
  assert.ok(kills > 0, 'at least one random kill happened');
});
