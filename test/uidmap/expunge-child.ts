/**
 * Child process for the multi-process SqliteUidStore expunge test (sqlite-expunge.test.ts). Opens the shared
 * database file, prints `ready` and waits for a line on stdin (the parent's start signal, once every child is
 * ready), then runs `expunge` calls on random overlapping sets of UIDs 1..<maxUid> (then one call asking for all of
 * them), writing JSON to stdout:
 *
 *   node --import tsx expunge-child.ts <db> <account> <mailbox> <index> <calls> <maxUid>
 *     prints `ready\n`, then { calls: [{ asked, removed }] }: each call's UIDs and the store's answer.
 */
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';

const [db, account, mailbox, ...rest] = process.argv.slice(2);
const [index, callCount, maxUid] = rest.map(Number) as [number, number, number];

/** A small deterministic PRNG (mulberry32), seeded per process, so runs are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<void> {
  const store = SqliteUidStore.open(db!);
  const random = rng(index * 104729 + 3);
  process.stdout.write('ready\n');
  await new Promise((r) => process.stdin.once('data', r));
  process.stdin.destroy();
  const calls: Array<{ asked: number[]; removed: number[] }> = [];
  for (let c = 0; c <= callCount; c++) {
    const asked = c === callCount
      ? Array.from({ length: maxUid + 2 }, (_, i) => i + 1) // the last call sweeps everything, plus two never assigned
      : Array.from({ length: 1 + Math.floor(random() * 12) }, () => 1 + Math.floor(random() * maxUid));
    calls.push({ asked, removed: await store.expunge(account!, mailbox!, asked) });
    await new Promise((r) => setTimeout(r, Math.floor(random() * 3))); // let the other processes' calls in between
  }
  process.stdout.write(JSON.stringify({ calls }));
  await store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(String((err as Error).stack ?? err));
  process.exit(1);
});
