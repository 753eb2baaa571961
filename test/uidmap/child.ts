/**
 * Child process for the multi-process SqliteUidStore test (sqlite.test.ts). Opens the shared database file and,
 * after waiting for a common start time, runs one of two jobs, writing JSON results to stdout:
 *
 *   node --import tsx child.ts assign <db> <account> <mailbox> <index> <calls> <startAtMs>
 *     many `assign` calls mixing shared ids (overlapping across processes) and ids only this process uses;
 *     prints { calls: [{ ids, uids }] } with the UIDs returned, in input order.
 *   node --import tsx child.ts open <db> <account> <mailbox> <startAtMs>
 *     one first `openMailbox`; prints { uidValidity }.
 */
import { SqliteUidStore } from '../../src/uidmap/sqlite.ts';

const [job, db, account, mailbox, ...rest] = process.argv.slice(2);

async function waitUntil(t: number): Promise<void> {
  while (Date.now() < t) await new Promise((r) => setTimeout(r, Math.min(5, t - Date.now())));
}

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
  if (job === 'open') {
    await waitUntil(Number(rest[0]));
    const state = await store.openMailbox(account!, mailbox!);
    process.stdout.write(JSON.stringify({ uidValidity: state.uidValidity }));
  } else {
    const [index, callCount, startAt] = rest.map(Number) as [number, number, number];
    const random = rng(index * 7919 + 1);
    await waitUntil(startAt);
    const calls: Array<{ ids: string[]; uids: number[] }> = [];
    let own = 0;
    for (let c = 0; c < callCount; c++) {
      const ids: string[] = [];
      const n = 1 + Math.floor(random() * 20);
      for (let k = 0; k < n; k++) ids.push(random() < 0.5 ? `shared-${Math.floor(random() * 300)}` : `p${index}-${own++}`);
      const got = await store.assign(account!, mailbox!, ids);
      calls.push({ ids, uids: ids.map((id) => got.get(id)!) });
      if (random() < 0.3) await new Promise((r) => setImmediate(r));
    }
    process.stdout.write(JSON.stringify({ calls }));
  }
  await store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(String((err as Error).stack ?? err));
  process.exit(1);
});
