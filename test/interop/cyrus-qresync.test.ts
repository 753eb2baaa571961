/**
 * QRESYNC (RFC 7162 §3.2) over a real JMAP server: the gateway in front of a throwaway Cyrus 3.6. A client syncs,
 * goes away while 200 changes happen (keywords and destroys made by a webmail straight in Cyrus's JMAP, flag
 * changes and expunges by another IMAP session, imports), comes back with SELECT (QRESYNC ...), and its cache,
 * updated only from the responses (plus a UID FETCH of the new messages, §6), equals what a fresh session sees.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cyrusAvailable, seedViaJmap, startCyrusBed, type CyrusBed } from '../helpers/cyrus.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { uidsOf } from '../helpers/imap-values.ts';

const INITIAL = 60;
const CHANGES = 200;

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`From: c${i}@example.org\r\nSubject: cyrus resync ${i}\r\nMessage-ID: <cq${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

if (cyrusAvailable('QRESYNC over Cyrus')) {
  let bed: CyrusBed;
  let inboxId = '';

  before(async () => {
    bed = await startCyrusBed();
    await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, Array.from({ length: INITIAL }, (_, i) => message(i)));
    inboxId = await bed.jmap.mailboxIdByRole('inbox');
  });
  after(() => bed.close());

  const login = async (): Promise<RawClient> => {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`, 20_000);
    return c;
  };
  const num = (re: RegExp, lines: string[]): number => {
    const m = lines.map((l) => re.exec(l)).find((x) => x);
    assert.ok(m, `${re} not in ${JSON.stringify(lines)}`);
    return Number(m[1]);
  };
  const applyFetches = (cache: Map<number, string[]>, lines: string[]): void => {
    for (const l of lines) {
      const m = /^\* \d+ FETCH \(.*UID (\d+).*FLAGS \(([^)]*)\)/.exec(l);
      if (m) cache.set(Number(m[1]), m[2]!.split(' ').filter(Boolean).sort());
    }
  };

  test('Cyrus: after 200 changes, SELECT (QRESYNC) brings a client cache exactly to the server state', async () => {
    const c1 = await login();
    await c1.command('e', 'ENABLE QRESYNC');
    const sel = await c1.command('s', 'SELECT INBOX', 20_000);
    const v = num(/\[UIDVALIDITY (\d+)\]/, sel);
    const h = num(/\[HIGHESTMODSEQ (\d+)\]/, sel);
    const next = num(/\[UIDNEXT (\d+)\]/, sel);
    const cache = new Map<number, string[]>();
    applyFetches(cache, await c1.command('f', 'UID FETCH 1:* (FLAGS)', 20_000));
    c1.close();
    assert.equal(cache.size, INITIAL);

    // The changes, in a fixed pseudo-random order.
    let seed = 7162;
    const rand = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T>(a: readonly T[]): T => a[Math.floor(rand() * a.length)]!;
    const b = await login();
    await b.command('s', 'SELECT INBOX', 20_000);
    let ids = await bed.jmap.idsIn(inboxId);
    let uids: number[] = [];
    const refresh = async (): Promise<void> => {
      ids = await bed.jmap.idsIn(inboxId);
      const r = await b.command('u', 'UID SEARCH ALL', 20_000);
      uids = (r.find((l) => l.startsWith('* SEARCH')) ?? '* SEARCH').split(' ').slice(2).map(Number);
    };
    await refresh();
    let expunged = 0;
    for (let i = 0; i < CHANGES; i++) {
      if (i % 20 === 0) await refresh();
      const r = rand();
      if (r < 0.35 && ids.length > 0) {
        await bed.jmap.one('Email/set', { update: { [pick(ids)]: { [`keywords/${pick(['$seen', '$flagged', 'cyrus-x'])}`]: rand() < 0.6 ? true : null } } });
      } else if (r < 0.6 && uids.length > 0) {
        await b.command('f', `UID STORE ${pick(uids)} ${rand() < 0.6 ? '+' : '-'}FLAGS.SILENT (${pick(['\\Seen', '\\Answered', '\\Deleted'])})`, 20_000);
      } else if (r < 0.72 && ids.length > 0) {
        const id = pick(ids);
        await bed.jmap.one('Email/set', { destroy: [id] });
        ids = ids.filter((x) => x !== id);
        expunged++;
      } else if (r < 0.85 && uids.length > 0) {
        const uid = pick(uids);
        await b.command('d', `UID STORE ${uid} +FLAGS.SILENT (\\Deleted)`, 20_000);
        await b.command('x', `UID EXPUNGE ${uid}`, 20_000);
        uids = uids.filter((u) => u !== uid);
        expunged++;
      } else {
        await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [message(1000 + i)]);
      }
    }
    b.close();
    assert.ok(expunged > 10, `the changes include expunges (${expunged})`);

    const truthClient = await login();
    await truthClient.command('s', 'EXAMINE INBOX', 20_000);
    const truth = new Map<number, string[]>();
    applyFetches(truth, await truthClient.command('f', 'UID FETCH 1:* (FLAGS)', 20_000));
    truthClient.close();

    const c2 = await login();
    await c2.command('e', 'ENABLE QRESYNC');
    const again = await c2.command('q', `SELECT INBOX (QRESYNC (${v} ${h}))`, 20_000);
    assert.match(again.at(-1)!, /^q OK \[READ-WRITE\]/);
    const vanished = again.find((l) => l.startsWith('* VANISHED (EARLIER) '));
    assert.ok(vanished, 'expunges reported as VANISHED (EARLIER)');
    for (const u of uidsOf(vanished.slice('* VANISHED (EARLIER) '.length))) cache.delete(u);
    applyFetches(cache, again);
    applyFetches(cache, await c2.command('n', `UID FETCH ${next}:* (FLAGS)`, 20_000));
    c2.close();
    assert.deepEqual(new Map([...cache].sort((x, y) => x[0] - y[0])), truth);
  });
}
