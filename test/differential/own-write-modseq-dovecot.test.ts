/**
 * One mod-sequence per change for a session's own writes (RFC 7162 §3.1, §3.1.3), side by side with Dovecot (a
 * throwaway instance): the same four messages, two CONDSTORE sessions per server, the same commands. Compared: how
 * each answer relates to the MODSEQ the server itself reported for the write (the values are each server's own):
 * whether a later FETCH MODSEQ, another session's catch-up and CHANGEDSINCE agree with it, and the tagged status of
 * `STORE (UNCHANGEDSINCE <that value>)`; and that a COPY leaves the source message's MODSEQ alone. So the expected
 * answers are Dovecot's, never our own.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dovecotVersion } from '../helpers/dovecot.ts';
import { startSideBySide, type Login, type SideBySide } from '../helpers/side-by-side.ts';
import { RawClient } from '../helpers/raw-client.ts';

const T0 = Date.UTC(2024, 0, 1);

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`From: d${i}@example.org\r\nSubject: d${i}\r\nMessage-ID: <dm${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

/** The MODSEQ of message `seq` in the lines (a literal may split a FETCH: the lines are joined first). */
function modseqIn(lines: string[], seq: number): number | undefined {
  const text = lines.join('\n');
  const start = text.search(new RegExp(`^\\* ${seq} FETCH \\(`, 'm'));
  if (start < 0) return undefined;
  const m = / MODSEQ \((\d+)\)|\(MODSEQ \((\d+)\)/.exec(text.slice(start));
  return m ? Number(m[1] ?? m[2]) : undefined;
}
const fetchCount = (lines: string[]): number => lines.filter((l) => /^\* \d+ FETCH /.test(l)).length;
const tagged = (lines: string[]): string => lines.at(-1)!.replace(/^\S+ /, '').replace(/ \[HIGHESTMODSEQ \d+\]/, '').replace(/^(OK|NO|BAD)( \[[^\]]*\])?.*$/, '$1$2');

const version = dovecotVersion();
if (!version) {
  if (process.env.CI) test('own-write MODSEQ vs Dovecot: Dovecot is installed (CI)', () => assert.fail('Dovecot imapd missing: run npm run peers as root'));
  else process.stderr.write('\n!!!!!!!! Dovecot imapd missing: own-write MODSEQ differential NOT RUN (npm run peers) !!!!!!!!\n\n');
} else {
  let pair: SideBySide;
  before(async () => {
    pair = await startSideBySide({ prefix: 'gw-own-modseq-dovecot-', user: 'ownms@example.test', password: 'ownms-pw', messages: [1, 2, 3, 4].map(message), t0: T0 });
  });
  after(() => pair?.close());

  async function login(s: Login): Promise<RawClient> {
    const c = await RawClient.connect(s.port);
    await c.line();
    await c.command('l', `LOGIN "${s.user}" "${s.password}"`);
    await c.command('s', 'SELECT INBOX (CONDSTORE)');
    return c;
  }

  /** The same script on one server; what is compared: relations to the server's own reported values. */
  async function run(s: Login): Promise<Record<string, unknown>> {
    const a = await login(s);
    const b = await login(s);
    try {
      const out: Record<string, unknown> = {};
      const m0 = modseqIn(await a.command('f0', 'FETCH 1 (MODSEQ)'), 1)!;
      const n = modseqIn(await a.command('t1', 'STORE 1 +FLAGS (\\Flagged)'), 1)!;
      out.storeRaised = n > m0;
      out.noopFetches = fetchCount(await a.command('n1', 'NOOP'));
      out.fetchSame = modseqIn(await a.command('f1', 'FETCH 1 (MODSEQ)'), 1) === n;
      out.otherSessionSame = modseqIn(await b.command('n2', 'NOOP'), 1) === n;
      out.fetchSameAfterOther = modseqIn(await a.command('f2', 'FETCH 1 (MODSEQ)'), 1) === n;
      out.unchangedSince = tagged(await a.command('t2', `STORE 1 (UNCHANGEDSINCE ${n}) +FLAGS (\\Answered)`));
      const r = modseqIn(await a.command('r', 'FETCH 2 (BODY[TEXT])'), 2)!;
      out.seenRaised = r > n;
      out.noopAfterSeen = fetchCount(await a.command('n3', 'NOOP'));
      out.seenSame = modseqIn(await a.command('f3', 'FETCH 2 (MODSEQ)'), 2) === r;
      out.changedSince = fetchCount(await a.command('f4', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${r})`));
      out.unchangedSinceSeen = tagged(await a.command('t3', `STORE 2 (UNCHANGEDSINCE ${r}) +FLAGS (\\Flagged)`));
      // COPY: the source message's metadata does not change (the gateway's COPY is a JMAP mailboxIds patch).
      await a.command('c', 'CREATE Archive');
      const k = modseqIn(await a.command('f5', 'FETCH 4 (MODSEQ)'), 4)!;
      out.copy = tagged(await a.command('k', 'COPY 4 Archive')).replace(/\[COPYUID [^\]]*\]/, '[COPYUID]'); // UIDVALIDITY: each server's
      out.noopAfterCopy = fetchCount(await a.command('n4', 'NOOP'));
      out.copySame = modseqIn(await a.command('f6', 'FETCH 4 (MODSEQ)'), 4) === k;
      out.unchangedSinceCopy = tagged(await a.command('t4', `STORE 4 (UNCHANGEDSINCE ${k}) +FLAGS (\\Flagged)`));
      return out;
    } finally {
      a.close();
      b.close();
    }
  }

  test(`own-write mod-sequences: the gateway answers as Dovecot ${version} does`, async () => {
    const want = await run(pair.servers.dovecot);
    // Dovecot's own answers, as RFC 7162 §3.1.3 reads: the conditional STOREs against the reported values succeed.
    assert.equal(want.unchangedSince, 'OK', JSON.stringify(want));
    assert.deepEqual(await run(pair.servers.gateway), want);
  });
}
