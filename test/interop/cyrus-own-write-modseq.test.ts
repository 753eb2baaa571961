/**
 * One mod-sequence per change over a real JMAP server (RFC 7162 §3.1, §3.1.3): the gateway in front of a throwaway
 * Cyrus 3.6, whose `Email/set` reports `oldState`/`newState` (RFC 8620 §5.3). After a session's own STORE or
 * `\Seen`-setting FETCH answered `MODSEQ (n)`, NOOP is silent, FETCH MODSEQ still answers n and
 * `STORE (UNCHANGEDSINCE n)` is performed (as Dovecot 2.3 does); a webmail's change made in Cyrus between the STORE
 * and another session's NOOP gets its own, later mod-sequence.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cyrusAvailable, seedViaJmap, startCyrusBed, type CyrusBed } from '../helpers/cyrus.ts';
import { RawClient } from '../helpers/raw-client.ts';
import { fetches, modseqs } from '../helpers/fetch-lines.ts';

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`From: w${i}@example.org\r\nSubject: cyrus modseq ${i}\r\nMessage-ID: <cw${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

if (cyrusAvailable('own-write MODSEQ over Cyrus')) {
  let bed: CyrusBed;
  let inboxId = '';

  before(async () => {
    bed = await startCyrusBed();
    await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, [1, 2, 3, 4].map(message));
    inboxId = await bed.jmap.mailboxIdByRole('inbox');
  });
  after(() => bed.close());

  const login = async (): Promise<RawClient> => {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`, 20_000);
    return c;
  };
  const modseqOf = async (c: RawClient, seq: number): Promise<number> => {
    const got = modseqs(await c.command('m', `FETCH ${seq} (MODSEQ)`, 20_000)).get(seq);
    assert.ok(got !== undefined, `no MODSEQ for ${seq}`);
    return got;
  };

  test('Cyrus: own STORE and \\Seen-setting FETCH keep the MODSEQ they answered; a webmail change racing in gets a later one', async () => {
    const a = await login();
    const b = await login();
    try {
      await a.command('s', 'SELECT INBOX (CONDSTORE)', 20_000);
      await b.command('s', 'SELECT INBOX (CONDSTORE)', 20_000);
      const m0 = await modseqOf(a, 1);
      const n = modseqs(await a.command('t1', 'STORE 1 +FLAGS (\\Flagged)', 20_000)).get(1)!;
      assert.ok(n > m0);
      assert.deepEqual(fetches(await a.command('n1', 'NOOP', 20_000)), []);
      assert.equal(await modseqOf(a, 1), n, 'FETCH MODSEQ answers the value STORE reported');

      // A webmail flags message 2 in Cyrus; b, whose view predates both changes, catches up.
      const ids = await bed.jmap.idsIn(inboxId);
      const set = await bed.jmap.one('Email/set', { update: { [ids[1]!]: { 'keywords/$junk': true } } });
      assert.ok(set.updated && ids[1]! in (set.updated as object), JSON.stringify(set));
      const seen = await b.command('n2', 'NOOP', 20_000);
      const got = modseqs(seen);
      assert.equal(got.get(1), n, `message 1 keeps the STORE's mod-sequence: ${seen.join(' | ')}`);
      assert.ok(got.get(2)! > n, 'the webmail change is a later change');

      const cond = await a.command('t2', `STORE 1 (UNCHANGEDSINCE ${n}) +FLAGS (\\Answered)`, 20_000);
      assert.equal(cond.at(-1), 't2 OK STORE completed', cond.join('\n'));

      // The implicit \Seen of a body FETCH (RFC 9051 §6.4.5).
      const read = (await a.command('r', 'FETCH 3 (BODY[TEXT])', 20_000)).join('\n');
      const r = Number(/ MODSEQ \((\d+)\)\)$/m.exec(read)?.[1]);
      assert.ok(r > n, read);
      assert.equal(await modseqOf(a, 3), r);
      const since = await a.command('f', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${r})`, 20_000);
      assert.deepEqual(fetches(since), [], since.join('\n'));
      const cond3 = await a.command('t3', `STORE 3 (UNCHANGEDSINCE ${r}) +FLAGS (\\Flagged)`, 20_000);
      assert.equal(cond3.at(-1), 't3 OK STORE completed', cond3.join('\n'));
    } finally {
      a.close();
      b.close();
    }
  });
}
