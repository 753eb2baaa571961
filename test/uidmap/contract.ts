/**
 * The UidStore contract (src/uidmap/store.ts, DESIGN.md rules 1-3, RFC 9051 §2.3.1.1): every implementation must
 * pass it. `makeStore` gives a fresh, empty store; `reopen`, when given, closes nothing itself and returns a new
 * store over the same persistent data (the suite closes the old one first), to check what survives a restart.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UidStore } from '../../src/uidmap/store.ts';

export interface StoreUnderTest {
  store: UidStore;
  reopen?: () => Promise<UidStore>;
}

const A = 'alice@example.com';
const B = 'bob@example.com';

/** RFC 9051 §9 nz-number: 1..4294967295. */
function assertNzNumber(n: number, what: string): void {
  assert.ok(Number.isInteger(n) && n >= 1 && n <= 4294967295, `${what} ${n} is not an nz-number`);
}

export function runUidStoreContract(name: string, makeStore: () => Promise<StoreUnderTest>, opts: { persistent?: boolean } = {}): void {
  /** Runs `fn` on a fresh store and closes whatever store is current at the end. */
  async function withStore(fn: (s: StoreUnderTest & { current: () => UidStore; restart: () => Promise<UidStore> }) => Promise<void>): Promise<void> {
    const made = await makeStore();
    let current = made.store;
    const restart = async (): Promise<UidStore> => {
      assert.ok(made.reopen, 'restart needs reopen');
      await current.close();
      current = await made.reopen();
      return current;
    };
    try {
      await fn({ ...made, current: () => current, restart });
    } finally {
      await current.close();
    }
  }

  test(`${name}: openMailbox creates distinct UIDVALIDITY per mailbox, seeded from the clock, UIDNEXT 1`, () => withStore(async ({ store }) => {
    const before = Math.floor(Date.now() / 1000);
    const states = [
      await store.openMailbox(A, 'inbox'), await store.openMailbox(A, 'sent'),
      await store.openMailbox(A, 'trash'), await store.openMailbox(B, 'inbox'),
    ];
    for (const s of states) {
      assertNzNumber(s.uidValidity, 'UIDVALIDITY');
      assert.ok(s.uidValidity >= before, 'UIDVALIDITY is seeded from the clock (seconds since the epoch)');
      assert.equal(s.uidNext, 1);
      assert.equal(s.syncState, null);
    }
    assert.equal(new Set(states.map((s) => s.uidValidity)).size, states.length, 'UIDVALIDITY distinct across mailboxes');
  }));

  test(`${name}: openMailbox is stable when called again`, () => withStore(async ({ store }) => {
    const first = await store.openMailbox(A, 'inbox');
    await store.assign(A, 'inbox', ['e1', 'e2']);
    const again = await store.openMailbox(A, 'inbox');
    assert.equal(again.uidValidity, first.uidValidity);
    assert.equal(again.uidNext, 3);
  }));

  test(`${name}: assign gives ascending UIDs from 1 in the given order; idempotent for mapped ids`, () => withStore(async ({ store }) => {
    const got = await store.assign(A, 'inbox', ['m-c', 'm-a', 'm-b']);
    assert.deepEqual([...got], [['m-c', 1], ['m-a', 2], ['m-b', 3]]);
    const again = await store.assign(A, 'inbox', ['m-b', 'm-a', 'm-c']);
    assert.deepEqual([...again].sort(), [['m-a', 2], ['m-b', 3], ['m-c', 1]]);
    assert.equal((await store.openMailbox(A, 'inbox')).uidNext, 4, 'idempotent call issues nothing');
    const mixed = await store.assign(A, 'inbox', ['m-d', 'm-a', 'm-e']);
    assert.equal(mixed.get('m-a'), 2);
    assert.equal(mixed.get('m-d'), 4);
    assert.equal(mixed.get('m-e'), 5);
    assert.deepEqual(await store.list(A, 'inbox'), [
      { uid: 1, emailId: 'm-c' }, { uid: 2, emailId: 'm-a' }, { uid: 3, emailId: 'm-b' },
      { uid: 4, emailId: 'm-d' }, { uid: 5, emailId: 'm-e' },
    ]);
  }));

  test(`${name}: an id repeated within one assign call gets one UID`, () => withStore(async ({ store }) => {
    const got = await store.assign(A, 'inbox', ['x', 'y', 'x']);
    assert.equal(got.get('x'), 1);
    assert.equal(got.get('y'), 2);
    assert.equal((await store.openMailbox(A, 'inbox')).uidNext, 3);
  }));

  test(`${name}: assign with no ids is harmless`, () => withStore(async ({ store }) => {
    assert.equal((await store.assign(A, 'inbox', [])).size, 0);
    assert.equal((await store.openMailbox(A, 'inbox')).uidNext, 1);
  }));

  test(`${name}: new ids get UIDs above expunged ones; an expunged id that comes back gets a new UID`, () => withStore(async ({ store }) => {
    await store.assign(A, 'inbox', ['a', 'b', 'c']);
    await store.expunge(A, 'inbox', [3, 2]);
    assert.deepEqual(await store.list(A, 'inbox'), [{ uid: 1, emailId: 'a' }]);
    const next = await store.assign(A, 'inbox', ['d', 'b']);
    assert.equal(next.get('d'), 4, 'UIDs 2 and 3 are never issued again');
    assert.equal(next.get('b'), 5, 'RFC 9051 §2.3.1.1: a returning message gets a new UID');
    assert.equal((await store.openMailbox(A, 'inbox')).uidNext, 6);
    // Expunging an unknown or already expunged UID is a no-op.
    await store.expunge(A, 'inbox', [2, 99]);
    assert.deepEqual((await store.list(A, 'inbox')).map((e) => e.uid), [1, 4, 5]);
  }));

  test(`${name}: expunging every message keeps UIDNEXT`, () => withStore(async ({ store }) => {
    await store.assign(A, 'inbox', ['a', 'b']);
    await store.expunge(A, 'inbox', [1, 2]);
    assert.deepEqual(await store.list(A, 'inbox'), []);
    assert.equal((await store.openMailbox(A, 'inbox')).uidNext, 3);
    assert.equal((await store.assign(A, 'inbox', ['a'])).get('a'), 3);
  }));

  test(`${name}: the same email in two mailboxes has independent UIDs`, () => withStore(async ({ store }) => {
    await store.assign(A, 'inbox', ['x1', 'x2', 'shared']);
    const other = await store.assign(A, 'archive', ['shared']);
    assert.equal(other.get('shared'), 1);
    await store.expunge(A, 'archive', [1]);
    assert.equal((await store.assign(A, 'inbox', ['shared'])).get('shared'), 3, 'expunge in one mailbox leaves the other');
    assert.deepEqual(await store.list(A, 'archive'), []);
  }));

  test(`${name}: accounts are isolated`, () => withStore(async ({ store }) => {
    const va = await store.openMailbox(A, 'mb1');
    const vb = await store.openMailbox(B, 'mb1');
    assert.notEqual(va.uidValidity, vb.uidValidity);
    await store.assign(A, 'mb1', ['e1', 'e2']);
    assert.equal((await store.assign(B, 'mb1', ['e2'])).get('e2'), 1);
    await store.setDeleted(A, 'mb1', [1], true);
    await store.setSyncState(A, 'mb1', 'state-a');
    assert.deepEqual([...(await store.getDeleted(B, 'mb1'))], []);
    assert.equal((await store.openMailbox(B, 'mb1')).syncState, null);
    await store.resetMailbox(B, 'mb1');
    assert.equal((await store.list(A, 'mb1')).length, 2);
    // Keys are compared exactly: no confusion between account/mailbox pairs that concatenate alike.
    await store.assign('a', 'bc', ['p']);
    assert.deepEqual(await store.list('ab', 'c'), []);
  }));

  test(`${name}: resetMailbox drops the map and the next open issues a larger UIDVALIDITY`, () => withStore(async ({ store }) => {
    const before = await store.openMailbox(A, 'inbox');
    const other = await store.openMailbox(A, 'other');
    await store.assign(A, 'inbox', ['a', 'b']);
    await store.setSyncState(A, 'inbox', 's1');
    await store.setDeleted(A, 'inbox', [1], true);
    await store.resetMailbox(A, 'inbox');
    const after = await store.openMailbox(A, 'inbox');
    assert.ok(after.uidValidity > before.uidValidity, 'larger UIDVALIDITY');
    assert.ok(after.uidValidity > other.uidValidity, 'larger than every UIDVALIDITY issued before');
    assert.equal(after.uidNext, 1);
    assert.equal(after.syncState, null);
    assert.deepEqual(await store.list(A, 'inbox'), []);
    assert.deepEqual([...(await store.getDeleted(A, 'inbox'))], []);
    assert.equal((await store.assign(A, 'inbox', ['b'])).get('b'), 1);
    assert.equal((await store.openMailbox(A, 'other')).uidValidity, other.uidValidity, 'other mailboxes untouched');
  }));

  test(`${name}: UIDVALIDITY only grows across many creations and resets`, () => withStore(async ({ store }) => {
    let last = 0;
    for (let i = 0; i < 20; i++) {
      const v = (await store.openMailbox(A, `mb${i % 3}`)).uidValidity;
      assert.ok(v > last, 'each new or reset mailbox gets a value above all earlier ones');
      last = Math.max(last, v);
      await store.resetMailbox(A, `mb${i % 3}`);
    }
  }));

  test(`${name}: syncState round-trips`, () => withStore(async ({ store }) => {
    await store.openMailbox(A, 'inbox');
    await store.setSyncState(A, 'inbox', 'jmap-state-1');
    assert.equal((await store.openMailbox(A, 'inbox')).syncState, 'jmap-state-1');
    await store.setSyncState(A, 'inbox', 'jmap-state-2 \u00e9');
    assert.equal((await store.openMailbox(A, 'inbox')).syncState, 'jmap-state-2 \u00e9');
  }));

  // The gateway's own write (RFC 8620 §5.3 oldState -> newState): the recorded state moves only if it is still `from`.
  test(`${name}: advanceSyncState is a compare-and-set of the recorded state that moves the sync version`, () => withStore(async ({ store }) => {
    assert.equal(await store.advanceSyncState(A, 'never-seen', 's1', 's2'), false, 'no recorded state: nothing to advance');
    await store.assign(A, 'inbox', ['a']);
    await store.setSyncState(A, 'inbox', 's1');
    const before = await store.snapshot(A, 'inbox');
    assert.equal(await store.advanceSyncState(A, 'inbox', 's0', 's2'), false, 'another state is recorded: refused');
    assert.deepEqual(await store.openMailbox(A, 'inbox'), { uidValidity: before.uidValidity, uidNext: before.uidNext, syncState: 's1', version: before.version, highestModseq: before.highestModseq }, 'a refusal changes nothing');
    assert.equal(await store.advanceSyncState(A, 'inbox', 's1', 's2'), true);
    const after = await store.snapshot(A, 'inbox');
    assert.equal(after.syncState, 's2');
    assert.ok(after.version > before.version, 'a sync that read the map at s1 must not commit over it');
    assert.equal(after.highestModseq, before.highestModseq, 'no mod-sequence is taken');
    assert.deepEqual(after.entries, before.entries);
    assert.equal(await store.commitSync(A, 'inbox', { version: before.version, expunge: [], assign: [], syncState: 's2', touch: ['a'] }), null,
      'a commit from the snapshot before the advance is refused');
    assert.equal(await store.advanceSyncState(A, 'inbox', 's1', 's3'), false, 'the second of two racing advances from s1 loses');
    assert.equal((await store.openMailbox(A, 'inbox')).syncState, 's2');
    assert.equal((await store.openMailbox(A, 'other')).syncState, null, 'other mailboxes keep theirs');
  }));

  test(`${name}: \\Deleted flags set and clear per (mailbox, UID); expunge clears them`, () => withStore(async ({ store }) => {
    await store.assign(A, 'inbox', ['a', 'b', 'c']);
    await store.assign(A, 'other', ['a', 'b', 'c']);
    await store.setDeleted(A, 'inbox', [1, 3], true);
    assert.deepEqual([...(await store.getDeleted(A, 'inbox'))].sort(), [1, 3]);
    assert.deepEqual([...(await store.getDeleted(A, 'other'))], []);
    await store.setDeleted(A, 'inbox', [1, 3], true);
    await store.setDeleted(A, 'inbox', [1], false);
    assert.deepEqual([...(await store.getDeleted(A, 'inbox'))], [3]);
    await store.expunge(A, 'inbox', [3]);
    assert.deepEqual([...(await store.getDeleted(A, 'inbox'))], []);
    const back = await store.assign(A, 'inbox', ['c']);
    assert.equal(back.get('c'), 4);
    assert.deepEqual([...(await store.getDeleted(A, 'inbox'))], [], 'a returning message does not inherit \\Deleted');
  }));

  test(`${name}: concurrent assign calls with overlapping ids never duplicate a UID nor split an id`, () => withStore(async ({ store }) => {
    const calls: Array<Promise<Map<string, number>>> = [];
    for (let c = 0; c < 40; c++) {
      const ids: string[] = [];
      for (let k = 0; k < 25; k++) ids.push(k % 2 === 0 ? `shared-${(c * 7 + k) % 60}` : `own-${c}-${k}`);
      calls.push(store.assign(A, 'inbox', ids));
    }
    const results = await Promise.all(calls);
    const uidOf = new Map<string, number>();
    for (const r of results) {
      for (const [id, uid] of r) {
        const seen = uidOf.get(id);
        assert.ok(seen === undefined || seen === uid, `${id} got two UIDs`);
        uidOf.set(id, uid);
      }
    }
    const uids = [...uidOf.values()];
    assert.equal(new Set(uids).size, uids.length, 'no UID for two ids');
    const listed = await store.list(A, 'inbox');
    assert.deepEqual(listed, [...uidOf].map(([emailId, uid]) => ({ uid, emailId })).sort((a, b) => a.uid - b.uid));
    assert.deepEqual(listed.map((e) => e.uid), Array.from({ length: listed.length }, (_, i) => i + 1), 'no gaps, no reuse');
    assert.equal((await store.openMailbox(A, 'inbox')).uidNext, listed.length + 1);
  }));

  test(`${name}: snapshot reads state and live entries together; version grows on expunge and sync-state change, not on assign`, () => withStore(async ({ store }) => {
    const empty = await store.snapshot(A, 'inbox');
    assert.deepEqual(empty.entries, []);
    assert.equal(empty.uidNext, 1);
    await store.assign(A, 'inbox', ['a', 'b']);
    const s1 = await store.snapshot(A, 'inbox');
    assert.deepEqual(s1.entries, [{ uid: 1, emailId: 'a' }, { uid: 2, emailId: 'b' }]);
    assert.equal(s1.uidNext, 3);
    assert.equal(s1.version, empty.version, 'assign does not move the sync version');
    await store.expunge(A, 'inbox', [99]);
    assert.equal((await store.openMailbox(A, 'inbox')).version, s1.version, 'expunging nothing does not move it');
    await store.expunge(A, 'inbox', [1]);
    const s2 = await store.openMailbox(A, 'inbox');
    assert.ok(s2.version > s1.version, 'an expunge moves it');
    await store.setSyncState(A, 'inbox', 'st-1');
    const s3 = await store.openMailbox(A, 'inbox');
    assert.ok(s3.version > s2.version, 'a new sync state moves it');
    await store.setSyncState(A, 'inbox', 'st-1');
    assert.equal((await store.openMailbox(A, 'inbox')).version, s3.version, 'the same sync state does not');
  }));

  test(`${name}: commitSync applies expunge + assign + state atomically, only at the expected version`, () => withStore(async ({ store }) => {
    await store.assign(A, 'inbox', ['a', 'b', 'c']);
    const snap = await store.snapshot(A, 'inbox');
    const done = await store.commitSync(A, 'inbox', { version: snap.version, expunge: [2], assign: ['d', 'a', 'e'], syncState: 'st-2' });
    assert.ok(done, 'commits at the snapshot version');
    assert.deepEqual([...done.assigned], [['d', 4], ['a', 1], ['e', 5]]);
    assert.equal(done.state.uidNext, 6);
    assert.equal(done.state.syncState, 'st-2');
    assert.ok(done.state.version > snap.version);
    assert.deepEqual((await store.list(A, 'inbox')).map((e) => e.uid), [1, 3, 4, 5]);
    // A second commit from the same (now stale) snapshot changes nothing.
    assert.equal(await store.commitSync(A, 'inbox', { version: snap.version, expunge: [1], assign: ['z'], syncState: 'st-old' }), null);
    const after = await store.snapshot(A, 'inbox');
    assert.deepEqual(after.entries.map((e) => e.uid), [1, 3, 4, 5]);
    assert.equal(after.syncState, 'st-2');
    assert.equal(after.uidNext, 6);
  }));

  test(`${name}: a sync that listed an email before another writer expunged it cannot commit it back (no ghost)`, () => withStore(async ({ store }) => {
    const stale = await store.snapshot(A, 'inbox'); // sync 1 starts; its listing will show x
    await store.assign(A, 'inbox', ['x']); // another session gives x UID 1 ...
    await store.expunge(A, 'inbox', [1]); // ... and expunges it (x left the mailbox)
    assert.equal(await store.commitSync(A, 'inbox', { version: stale.version, expunge: [], assign: ['x'], syncState: 's' }), null);
    assert.deepEqual(await store.list(A, 'inbox'), [], 'x got no new UID');
  }));

  // store.ts `expunge`: the answer is what this call removed from the live map, so a caller can tell its own
  // removal from one another writer already made (sync.ts keeps its cached snapshot on it).
  test(`${name}: expunge answers the UIDs it removed, ascending: not the unknown, the already expunged, nor repeats`, () => withStore(async ({ store }) => {
    await store.assign(A, 'inbox', ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(await store.expunge(A, 'inbox', [2]), [2]);
    assert.deepEqual(await store.expunge(A, 'inbox', [5, 2, 99, 1, 5, 4294967295]), [1, 5], '2 already expunged, 99 and 2^32-1 never assigned, 5 once');
    assert.deepEqual((await store.list(A, 'inbox')).map((e) => e.uid), [3, 4]);
    assert.deepEqual(await store.expunge(A, 'inbox', [1, 2, 5]), [], 'all already expunged');
    assert.deepEqual(await store.expunge(A, 'inbox', []), []);
    const back = await store.assign(A, 'inbox', ['a']);
    assert.deepEqual(await store.expunge(A, 'inbox', [1, back.get('a')!]), [6], 'the returning email under its new UID, not its old one');
    assert.deepEqual(await store.expunge(A, 'other', [3, 4]), [], 'another mailbox: its own live map');
    assert.deepEqual(await store.expunge(B, 'inbox', [3, 4]), [], 'another account: its own live map');
    assert.deepEqual((await store.list(A, 'inbox')).map((e) => e.uid), [3, 4], 'both untouched here');
  }));

  test(`${name}: expunge of nothing live leaves a mailbox it does not know uncreated`, () => withStore(async ({ store }) => {
    assert.deepEqual(await store.expunge(A, 'unseen', [1, 2]), []);
    const later = await store.openMailbox(A, 'later');
    const unseen = await store.openMailbox(A, 'unseen');
    assert.ok(unseen.uidValidity > later.uidValidity, 'created by the open after the expunge, not by the expunge (RFC 9051 §2.3.1.1: UIDVALIDITY grows)');
    assert.equal(unseen.uidNext, 1);
  }));

  test(`${name}: an expunge that removed something moved version and HIGHESTMODSEQ by exactly one; one that removed nothing moved nothing`, () => withStore(async ({ store }) => {
    await store.assign(A, 'inbox', ['a', 'b', 'c', 'd']);
    await store.touch(A, 'inbox', [4]);
    await store.setSyncState(A, 'inbox', 's1');
    const before = await store.snapshot(A, 'inbox');
    assert.deepEqual(await store.expunge(A, 'inbox', [3, 1, 7]), [1, 3]);
    const after = await store.snapshot(A, 'inbox');
    assert.equal(after.version, before.version + 1, 'one removal of two entries is one version');
    assert.equal(after.highestModseq, before.highestModseq + 1, 'RFC 7162 §3.1: one change, one new mod-sequence');
    assert.deepEqual({ uidValidity: after.uidValidity, uidNext: after.uidNext, syncState: after.syncState },
      { uidValidity: before.uidValidity, uidNext: before.uidNext, syncState: 's1' });
    assert.deepEqual(after.entries, [{ uid: 2, emailId: 'b' }, { uid: 4, emailId: 'd' }]);
    assert.deepEqual(after.modseqs, [before.modseqs[1], before.modseqs[3]], 'the other entries keep their mod-sequences');
    assert.deepEqual(await store.vanished(A, 'inbox', before.highestModseq), [1, 3], 'both removed UIDs carry the new mod-sequence');
    assert.deepEqual(await store.vanished(A, 'inbox', after.highestModseq), []);
    assert.deepEqual(await store.expunge(A, 'inbox', [1, 3, 7]), []);
    assert.deepEqual(await store.snapshot(A, 'inbox'), after, 'an empty answer: nothing changed');
    assert.deepEqual(await store.vanished(A, 'inbox', before.highestModseq), [1, 3]);
    const done = await store.commitSync(A, 'inbox', { version: after.version, expunge: [], assign: [], syncState: 's2' });
    assert.ok(done, 'a sync from the snapshot read after the empty expunge still commits');
  }));

  test(`${name}: concurrent expunges of overlapping sets answer disjoint sets whose union is what was live`, () => withStore(async ({ store }) => {
    const ids = Array.from({ length: 60 }, (_, i) => `m${i}`);
    await store.assign(A, 'inbox', ids); // UIDs 1..60
    await store.expunge(A, 'inbox', [7, 8]); // already gone before the race
    const live = Array.from({ length: 60 }, (_, i) => i + 1).filter((u) => u !== 7 && u !== 8);
    const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const before = await store.openMailbox(A, 'inbox');
    const asked = [range(1, 40), range(21, 60).reverse(), range(1, 60).filter((u) => u % 3 === 0).concat([61, 99]), range(30, 35)];
    const answers: number[][] = [];
    // Two at a time (the pair the rule is about), then all four together.
    answers.push(...(await Promise.all([store.expunge(A, 'inbox', asked[0]!.slice(0, 20)), store.expunge(A, 'inbox', asked[2]!.filter((u) => u <= 30))])));
    answers.push(...(await Promise.all(asked.map((u) => store.expunge(A, 'inbox', u)))));
    const all = answers.flat();
    assert.equal(new Set(all).size, all.length, `answers are disjoint: ${JSON.stringify(answers)}`);
    assert.deepEqual([...all].sort((a, b) => a - b), live, 'their union is exactly what was live');
    for (const a of answers) assert.deepEqual(a, [...a].sort((x, y) => x - y), 'each answer ascending');
    const after = await store.openMailbox(A, 'inbox');
    const nonEmpty = answers.filter((a) => a.length > 0).length;
    assert.equal(after.version, before.version + nonEmpty, 'one version per call that removed something');
    assert.equal(after.highestModseq, before.highestModseq + nonEmpty, 'one mod-sequence per call that removed something');
    assert.deepEqual(await store.list(A, 'inbox'), []);
    assert.deepEqual(await store.vanished(A, 'inbox', before.highestModseq), live);
  }));

  test(`${name}: concurrent commitSync from one snapshot: exactly one wins`, () => withStore(async ({ store }) => {
    const snap = await store.snapshot(A, 'inbox');
    const results = await Promise.all([0, 1, 2, 3].map((i) => store.commitSync(A, 'inbox', { version: snap.version, expunge: [], assign: [`m${i}`], syncState: `s${i}` })));
    assert.equal(results.filter((r) => r !== null).length, 1);
    assert.equal((await store.list(A, 'inbox')).length, 1);
  }));

  test(`${name}: mod-sequences (RFC 7162 §3.1): each change takes the next value; VANISHED history`, () => withStore(async ({ store }) => {
    const fresh = await store.openMailbox(A, 'inbox');
    assert.equal(fresh.highestModseq, 1, 'a positive HIGHESTMODSEQ from the start');
    await store.assign(A, 'inbox', ['a', 'b']); // one write: both get modseq 2
    await store.assign(A, 'inbox', ['a', 'c']); // a already live: only c changes, modseq 3
    let snap = await store.snapshot(A, 'inbox');
    assert.equal(snap.highestModseq, 3);
    assert.deepEqual(snap.modseqs, [2, 2, 3]);
    assert.equal(await store.touch(A, 'inbox', [1, 99]), 4, 'touch of a live UID takes the next value');
    assert.equal(await store.touch(A, 'inbox', [99]), 4, 'touch of no live UID changes nothing');
    await store.expunge(A, 'inbox', [2]); // modseq 5
    assert.deepEqual(await store.vanished(A, 'inbox', 4), [2]);
    assert.deepEqual(await store.vanished(A, 'inbox', 5), []);
    snap = await store.snapshot(A, 'inbox');
    const done = await store.commitSync(A, 'inbox', { version: snap.version, expunge: [1], assign: ['d'], syncState: 's2', touch: ['c', 'gone'] });
    assert.ok(done);
    assert.equal(done.state.highestModseq, 6, 'one commit is one change: one new mod-sequence');
    snap = await store.snapshot(A, 'inbox');
    assert.deepEqual(snap.entries.map((e) => e.uid), [3, 4]);
    assert.deepEqual(snap.modseqs, [6, 6]);
    assert.deepEqual(await store.vanished(A, 'inbox', 0), [1, 2]);
    assert.deepEqual(await store.vanished(A, 'inbox', 5), [1]);
    const other = await store.openMailbox(A, 'other');
    assert.equal(other.highestModseq, 1, 'the counter is per mailbox');
  }));

  // RFC 8474 §5.1: a re-imported copy keeps its source's EMAILID/THREADID; §5.1 "EMAILID is immutable", so an id
  // that has an origin keeps the first one. Ids are account-wide (RFC 8621 §1.6.2), not per mailbox.
  test(`${name}: origins (RFC 8474 §5.1) are write-once, per account, and outlive a mailbox reset`, () => withStore(async ({ store }) => {
    assert.deepEqual(await store.getOrigins(A, ['copy1']), new Map(), 'none recorded yet');
    await store.setOrigins(A, new Map([['copy1', { emailId: 'src', threadId: 'thr' }]]));
    await store.setOrigins(A, new Map([['copy1', { emailId: 'other', threadId: 'other-t' }], ['copy2', { emailId: 'src', threadId: 'thr' }]]));
    await store.setOrigins(A, new Map());
    assert.deepEqual(await store.getOrigins(A, ['copy2', 'plain', 'copy1']), new Map([
      ['copy2', { emailId: 'src', threadId: 'thr' }],
      ['copy1', { emailId: 'src', threadId: 'thr' }],
    ]));
    assert.deepEqual(await store.getOrigins(A, []), new Map());
    assert.deepEqual(await store.getOrigins(B, ['copy1', 'copy2']), new Map(), 'accounts do not share origins');
    await store.setOrigins(B, new Map([['copy1', { emailId: 'b-src', threadId: 'b-thr' }]]));
    assert.deepEqual(await store.getOrigins(B, ['copy1']), new Map([['copy1', { emailId: 'b-src', threadId: 'b-thr' }]]));
    await store.assign(A, 'inbox', ['copy1']);
    await store.resetMailbox(A, 'inbox');
    assert.deepEqual(await store.getOrigins(A, ['copy1']), new Map([['copy1', { emailId: 'src', threadId: 'thr' }]]));
    const many = Array.from({ length: 500 }, (_, i) => `bulk${i}`);
    await store.setOrigins(A, new Map(many.map((id) => [id, { emailId: `s-${id}`, threadId: 't' }])));
    const got = await store.getOrigins(A, [...many, 'plain']);
    assert.equal(got.size, many.length, 'a large batch round-trips in full');
    assert.deepEqual(got.get('bulk499'), { emailId: 's-bulk499', threadId: 't' });
  }));

  // Only stores that persist have a restart to survive: the test is registered for them alone (never skipped).
  if (opts.persistent) test(`${name}: restart keeps UIDs, UIDVALIDITY, UIDNEXT, sync state, \\Deleted, expunge history and origins`, async () => {
    await withStore(async ({ store, restart }) => {
      const inbox = await store.openMailbox(A, 'inbox');
      const sent = await store.openMailbox(A, 'sent');
      await store.assign(A, 'inbox', ['a', 'b', 'c']);
      await store.expunge(A, 'inbox', [2]);
      await store.setDeleted(A, 'inbox', [3], true);
      await store.setSyncState(A, 'inbox', 'st-9');
      await store.setOrigins(A, new Map([['c', { emailId: 'a', threadId: 't-a' }]]));
      const s2 = await restart();
      assert.deepEqual(await s2.getOrigins(A, ['a', 'c']), new Map([['c', { emailId: 'a', threadId: 't-a' }]]), 'origins survive restart');
      const again = await s2.openMailbox(A, 'inbox');
      // HIGHESTMODSEQ: 1 at creation, 2 for the assign, 3 for the expunge (RFC 7162 §3.1, store.ts).
      assert.deepEqual({ ...again, version: undefined }, { uidValidity: inbox.uidValidity, uidNext: 4, syncState: 'st-9', version: undefined, highestModseq: 3 });
      assert.deepEqual(await s2.vanished(A, 'inbox', 2), [2], 'expunge history with its mod-sequence survives restart');
      assert.ok(again.version > 0, 'sync version survives restart');
      assert.equal((await s2.openMailbox(A, 'sent')).uidValidity, sent.uidValidity);
      assert.deepEqual(await s2.list(A, 'inbox'), [{ uid: 1, emailId: 'a' }, { uid: 3, emailId: 'c' }]);
      assert.deepEqual([...(await s2.getDeleted(A, 'inbox'))], [3]);
      assert.equal((await s2.assign(A, 'inbox', ['b'])).get('b'), 4, 'expunged id comes back with a new UID after restart');
      const fresh = await s2.openMailbox(A, 'new');
      assert.ok(fresh.uidValidity > Math.max(inbox.uidValidity, sent.uidValidity), 'max UIDVALIDITY survives restart');
    });
  });
}
