/**
 * The JMAP round-trip budget (DESIGN.md rule 8), counted on the wire: every HTTP request the gateway sends to the
 * store goes through the test bed's wrapped fetch. Run twice: with the embedded store's default limits, and with
 * small ones (maxObjectsInGet 50, maxCallsInRequest 4) so that chunking and batching show. The bounds are the
 * issue's: a header FETCH of N messages costs at most ceil(N / maxObjectsInGet) + 1 requests and downloads no
 * blob for 7-bit headers; a second BODYSTRUCTURE of a message downloads nothing; an unchanged mailbox's SELECT,
 * a STORE and a MOVE of 1,000 messages cost a small number fixed by the limits, not by the message count.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { RawClient } from '../helpers/raw-client.ts';

const N = 1000;
const enc = new TextEncoder();

const SETUPS: Array<[string, { maxObjectsInGet: number; maxCallsInRequest: number } | undefined]> = [
  ['default limits', undefined],
  ['small limits (maxObjectsInGet 50, maxCallsInRequest 4)', { maxObjectsInGet: 50, maxCallsInRequest: 4 }],
];

for (const [label, storeLimits] of SETUPS) {
  describe(`round trips with ${label}`, () => {
    let bed: TestBed;
    /** Every request: its URL and, for API calls, the method names. */
    let log: Array<{ url: string; methods: string[] }> = [];
    const maxGet = storeLimits?.maxObjectsInGet ?? 500;
    const maxCalls = storeLimits?.maxCallsInRequest ?? 32;

    before(async () => {
      bed = await startTestBed({
        ...(storeLimits ? { storeLimits } : {}),
        wrapFetch: (inner) => async (input, init) => {
          const body = typeof init?.body === 'string' ? init.body : '';
          const methods = body ? (JSON.parse(body) as { methodCalls: Array<[string]> }).methodCalls.map((m) => m[0]) : [];
          log.push({ url: String(input), methods });
          return inner(input, init);
        },
      });
      for (let i = 1; i <= N; i++) {
        const raw = enc.encode(`From: Sender ${i} <s${i}@example.org>\r\nTo: r@example.org\r\nSubject: budget ${i}\r\n`
          + `Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <budget${i}@example.org>\r\n\r\nBody ${i}\r\n`);
        bed.store.importMessage(bed.user, 'INBOX', raw, { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000) });
      }
      bed.store.importMessage(bed.user, 'Archive', enc.encode('Subject: x\r\n\r\nx\r\n'));
    });
    after(() => bed.close());

    async function session(): Promise<RawClient> {
      const c = await RawClient.connect(bed.imapPort);
      await c.line();
      await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`);
      return c;
    }

    /** Run a command; the requests it cost. */
    async function cost(c: RawClient, tag: string, text: string): Promise<{ lines: string[]; requests: typeof log }> {
      log = [];
      const lines = await c.command(tag, text, 30_000);
      assert.match(lines.at(-1)!, new RegExp(`^${tag} OK `), lines.at(-1));
      return { lines, requests: log };
    }
    const downloads = (r: typeof log) => r.filter((x) => x.url.includes('/download/')).length;

    test('SELECT of an unchanged mailbox: Mailbox/get and Email/changes, whatever its size', async () => {
      const first = await session();
      await cost(first, 'a', 'SELECT INBOX'); // the first sight lists the mailbox and assigns UIDs
      first.close();
      const c = await session();
      const { requests } = await cost(c, 'b', 'SELECT INBOX');
      assert.ok(requests.length <= 2, `warm SELECT cost ${requests.length}: ${JSON.stringify(requests.map((r) => r.methods))}`);
      assert.equal(downloads(requests), 0);
      c.close();
    });

    // The whole mailbox: metadata and headers travel in one request of Email/get calls per 1,000 messages.
    const H = N;
    test(`a header FETCH of ${H} messages: at most ceil(N / maxObjectsInGet) + 1 requests, no blob download`, async () => {
      const c = await session();
      await c.command('s', 'SELECT INBOX');
      const { lines, requests } = await cost(c, 'f', `FETCH 1:${H} (UID RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)])`);
      assert.equal(lines.filter((l) => /^\* \d+ FETCH /.test(l)).length, H);
      const bound = Math.ceil(H / maxGet) + 1;
      assert.ok(requests.length <= bound, `header FETCH cost ${requests.length} > ${bound}: ${JSON.stringify(requests.map((r) => r.methods))}`);
      assert.equal(downloads(requests), 0, 'no blob download for 7-bit headers');
      c.close();
    });

    test('a second BODYSTRUCTURE of the same message downloads nothing', async () => {
      const c = await session();
      await c.command('s', 'SELECT INBOX');
      const first = await cost(c, 'a', 'FETCH 7 BODYSTRUCTURE');
      assert.ok(downloads(first.requests) <= 1);
      const again = await cost(c, 'b', 'FETCH 7 BODYSTRUCTURE');
      assert.equal(downloads(again.requests), 0, 'BODYSTRUCTURE is derived once per blob and cached');
      assert.deepEqual(again.lines.filter((l) => l.startsWith('* 7 FETCH')), first.lines.filter((l) => l.startsWith('* 7 FETCH')));
      c.close();
    });

    test(`a STORE on ${N} messages: Email/get + Email/set pairs, batched under the limits`, async () => {
      const c = await session();
      await c.command('s', 'SELECT INBOX');
      const { lines, requests } = await cost(c, 'a', `STORE 1:${N} +FLAGS.SILENT (\\Flagged)`);
      assert.equal(lines.length, 1);
      // STORE first reads the flags (Email/get chunks of maxObjectsInGet, maxCallsInRequest per request), then
      // writes in batches of maxObjectsInGet emails (maxObjectsInSet is larger): an Email/get + Email/set pair each.
      const reads = Math.ceil(Math.ceil(N / maxGet) / maxCalls);
      const writes = Math.ceil(Math.ceil(N / maxGet) / Math.floor(maxCalls / 2));
      assert.ok(requests.length <= reads + writes, `STORE cost ${requests.length} > ${reads + writes}: ${JSON.stringify(requests.map((r) => r.methods))}`);
      assert.equal(downloads(requests), 0);
      c.close();
    });

    test(`a MOVE of ${N} messages: Mailbox/get, Email/get, the batched Email/set, no download`, async () => {
      const c = await session();
      await c.command('s', 'SELECT INBOX');
      const { lines, requests } = await cost(c, 'a', `MOVE 1:${N} Archive`);
      assert.equal(lines.filter((l) => / EXPUNGE$/.test(l)).length, N);
      const gets = Math.ceil(Math.ceil(N / maxGet) / maxCalls);
      const writes = Math.ceil(Math.ceil(N / maxGet) / Math.floor(maxCalls / 2));
      // + Mailbox/get of the destination, + the first sight of the destination (listing, one page), + slack of 1.
      const bound = gets + writes + 3;
      assert.ok(requests.length <= bound, `MOVE cost ${requests.length} > ${bound}: ${JSON.stringify(requests.map((r) => r.methods))}`);
      assert.equal(downloads(requests), 0);
      c.close();
    });
  });
}
