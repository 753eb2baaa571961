/**
 * STORE over a real JMAP server in few requests: the gateway in front of a throwaway Cyrus 3.6. A keyword STORE is
 * one request (`Email/get` + `Email/set`), a `\Deleted`-only .SILENT STORE none. Cyrus 3.6 moves its Email state
 * (and lists the email in `Email/changes`) even for an `Email/set` update that changes nothing, so `+FLAGS` of a
 * flag already set is written and must still give no new mod-sequence (RFC 7162 §3.1: setting a flag already set
 * is no change), in this session (NOOP, FETCH MODSEQ, UNCHANGEDSINCE) and in another one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cyrusAvailable, seedViaJmap, startCyrusBed, type CyrusBed } from '../helpers/cyrus.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { fetches, modseqs } from '../helpers/fetch-lines.ts';

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`From: s${i}@example.org\r\nSubject: cyrus store ${i}\r\nMessage-ID: <cs${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

if (cyrusAvailable('STORE requests over Cyrus')) {
  let bed: CyrusBed;

  before(async () => {
    bed = await startCyrusBed();
    await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [1, 2, 3].map(message));
  });
  after(() => bed.close());

  const login = async (): Promise<RawClient> => {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`, 20_000);
    return c;
  };
  const counted = async (c: RawClient, tag: string, text: string): Promise<{ lines: string[]; requests: number }> => {
    const start = bed.requests();
    const lines = await c.command(tag, text, 20_000);
    return { lines, requests: bed.requests() - start };
  };

  test('Cyrus: a keyword STORE is one request, a .SILENT \\Deleted none; a flag already set keeps its MODSEQ', async () => {
    const a = await login();
    const b = await login();
    try {
      await a.command('s', 'SELECT INBOX (CONDSTORE)', 20_000);
      await b.command('s', 'SELECT INBOX (CONDSTORE)', 20_000);
      await a.command('f', 'FETCH 1 FLAGS', 20_000); // known flags: the STORE may write without reading first
      const first = await counted(a, 't1', 'STORE 1 +FLAGS (\\Flagged)');
      assert.equal(first.requests, 1, first.lines.join('\n'));
      assert.match(fetches(first.lines)[0]!, /^\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
      const n = modseqs(first.lines).get(1)!;

      // Already set: read first, nothing written (Cyrus would move its state for it); the same MODSEQ everywhere.
      const again = await counted(a, 't2', 'STORE 1 +FLAGS (\\Flagged)');
      assert.equal(again.requests, 1);
      assert.deepEqual(fetches(again.lines), [`* 1 FETCH (FLAGS (\\Flagged) MODSEQ (${n}))`]);
      assert.deepEqual(fetches(await a.command('n1', 'NOOP', 20_000)), []);
      assert.equal(modseqs(await a.command('m', 'FETCH 1 (MODSEQ)', 20_000)).get(1), n);
      const other = await b.command('n2', 'NOOP', 20_000);
      assert.equal(modseqs(other).get(1), n, `the other session sees the one change with its one MODSEQ: ${other.join(' | ')}`);
      const cond = await a.command('t3', `STORE 1 (UNCHANGEDSINCE ${n}) +FLAGS.SILENT (\\Flagged)`, 20_000);
      assert.equal(cond.at(-1), 't3 OK STORE completed', cond.join('\n'));
      // Another JMAP writer moves the account's state first (the map is then behind the store): still no MODSEQ for
      // a flag already set (RFC 7162 §3.1), at the next sync of either session.
      await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [message(9)]);
      await a.command('t5', 'STORE 1 +FLAGS (\\Flagged)', 20_000);
      await a.command('n3', 'NOOP', 20_000);
      assert.equal(modseqs(await a.command('m2', 'FETCH 1 (MODSEQ)', 20_000)).get(1), n, 'no MODSEQ for a write of nothing');
      await b.command('n4', 'NOOP', 20_000);
      assert.equal(modseqs(await b.command('m3', 'FETCH 1 (MODSEQ)', 20_000)).get(1), n);

      const del = await counted(a, 't4', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
      assert.match(del.lines.at(-1)!, /^t4 OK /);
      const plain = await login();
      try {
        await plain.command('s', 'SELECT INBOX', 20_000);
        const silent = await counted(plain, 'd', 'STORE 3 +FLAGS.SILENT (\\Deleted)');
        assert.deepEqual(silent, { lines: ['d OK STORE completed'], requests: 0 });
        assert.deepEqual((await plain.command('f', 'FETCH 1:3 FLAGS', 20_000)).slice(0, -1),
          ['* 1 FETCH (FLAGS (\\Flagged))', '* 2 FETCH (FLAGS (\\Deleted))', '* 3 FETCH (FLAGS (\\Deleted))']);
      } finally {
        plain.close();
      }
    } finally {
      a.close();
      b.close();
    }
  });
}
