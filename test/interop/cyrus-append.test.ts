/**
 * APPEND to the selected mailbox over a real JMAP server without RFC 9404 `Blob/upload` (Cyrus 3.6): the usual
 * path (`Mailbox/get`, the upload, `Email/import`). Cyrus 3.6's `Email/import` answers no `oldState`/`newState`
 * (RFC 8621 §4.8 asks for them), so there is no import state to adopt and the view catches up as before
 * (src/session/commands/append.ts). What must hold: the message is announced with `* n EXISTS` (RFC 9051 §6.3.12,
 * §7.4.1), APPENDUID names it (RFC 4315 §3), it has one mod-sequence (RFC 7162 §3.1: a second session sees the
 * same one), and a webmail change made before the APPEND is reported by it (RFC 9051 §7.5.2).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cyrusAvailable, seedViaJmap, startCyrusBed, type CyrusBed } from '../helpers/cyrus.ts';
import { RawClient } from '../helpers/raw-client.ts';

const message = (n: string) => `From: a@example.org\r\nSubject: ${n}\r\nMessage-ID: <${n}@example.org>\r\n\r\nBody ${n}\r\n`;

if (cyrusAvailable('APPEND over Cyrus')) {
  let bed: CyrusBed;
  let methods: string[][] = [];

  before(async () => {
    bed = await startCyrusBed({
      wrapFetch: (inner) => (input, init) => {
        const body = typeof init?.body === 'string' ? init.body : '';
        methods.push(body ? (JSON.parse(body) as { methodCalls: Array<[string]> }).methodCalls.map((m) => m[0]) : [String(input).includes('/upload/') ? 'upload' : 'other']);
        return inner(input, init);
      },
    });
    await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, ['c1', 'c2'].map((n) => new TextEncoder().encode(message(n))));
  });
  after(() => bed.close());

  const login = async (): Promise<RawClient> => {
    const c = await RawClient.connect(bed.imapPort);
    await c.line();
    assert.match((await c.command('l', `LOGIN "${bed.user}" "${bed.password}"`, 20_000)).at(-1)!, /^l OK/);
    return c;
  };
  const number = (lines: string[], re: RegExp): number => {
    const hit = lines.map((l) => re.exec(l)).find((m) => m);
    assert.ok(hit, `${re} in:\n${lines.join('\n')}`);
    return Number(hit[1]);
  };
  const append = async (c: RawClient, tag: string, body: string) => {
    methods = [];
    const lines = await c.command(tag, `APPEND INBOX {${body.length}+}\r\n${body}`, 20_000);
    return { lines, methods };
  };

  test('Cyrus: APPEND to the selected mailbox: EXISTS, APPENDUID, one MODSEQ; a webmail change is reported', async () => {
    const c = await login();
    try {
      const sel = await c.command('s', 'SELECT INBOX (CONDSTORE)', 20_000);
      const uidValidity = number(sel, /\[UIDVALIDITY (\d+)\]/);
      const h0 = number(sel, /\[HIGHESTMODSEQ (\d+)\]/);
      const a = await append(c, 'a1', message('c3'));
      assert.equal(a.lines.at(-1), `a1 OK [APPENDUID ${uidValidity} 3] APPEND completed`);
      assert.ok(a.lines.includes('* 3 EXISTS'), a.lines.join('\n'));
      assert.ok(!a.methods.flat().includes('Blob/upload'), `no Blob/upload sent to Cyrus: ${JSON.stringify(a.methods)}`);
      const m = number(await c.command('f', 'UID FETCH 3 (MODSEQ)', 20_000), /MODSEQ \((\d+)\)/);
      assert.ok(m > h0);
      assert.deepEqual(await c.command('n', 'NOOP', 20_000), ['n OK NOOP completed']);
      const d = await login();
      const sel2 = await d.command('s', 'SELECT INBOX (CONDSTORE)', 20_000);
      assert.equal(number(sel2, /\[HIGHESTMODSEQ (\d+)\]/), m, 'one mod-sequence for the APPEND, in every session');
      d.close();

      // A webmail flags message 1 in Cyrus before the next APPEND: that APPEND reports it (the states differ).
      const inbox = await bed.jmap.mailboxIdByRole('inbox');
      const ids = await bed.jmap.idsIn(inbox);
      const set = await bed.jmap.one('Email/set', { update: { [ids[0]!]: { 'keywords/$flagged': true } } });
      assert.ok(set.updated && ids[0]! in (set.updated as object), JSON.stringify(set));
      const b = await append(c, 'a2', message('c4'));
      assert.equal(b.lines.at(-1), `a2 OK [APPENDUID ${uidValidity} 4] APPEND completed`);
      assert.ok(b.lines.includes('* 4 EXISTS'), b.lines.join('\n'));
      assert.ok(b.lines.some((l) => /^\* 1 FETCH \(.*FLAGS \(\\Flagged\)/.test(l)), b.lines.join('\n'));
    } finally {
      c.close();
    }
  });
}
