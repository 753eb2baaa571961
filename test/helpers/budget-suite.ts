/**
 * The JMAP round-trip budget (DESIGN.md rule 8), counted on the wire, written once and run per backend
 * (test/e2e/budget.test.ts: the embedded store with default and small limits; test/interop/cyrus-budget.test.ts:
 * a throwaway Cyrus 3.6). Every HTTP request the gateway sends to the store goes through a wrapped fetch the bed
 * installs; the bounds are computed from the store's own RFC 8620 §2 core limits, read from its JMAP session.
 *
 * The bounds are issue 3's: a header FETCH of N messages costs at most ceil(N / maxObjectsInGet) + 1 requests and
 * downloads no blob for 7-bit headers; a second BODYSTRUCTURE of a message downloads nothing; an unchanged mailbox's
 * SELECT (one request: issue 8), a STORE and a MOVE of 1,000 messages cost a small number fixed by the limits, not by the
 * message count.
 *
 * One exception, per bed (`rawHeaders`): with the gateway's `headerSource: 'raw'` (needed over Cyrus 3.6, whose
 * `Email/get` `headers` drops fields with non-UTF-8 values: docs/interop.md) header blocks come from the raw message,
 * so the FIRST header FETCH downloads each message once (RFC 8620 §6.2; Cyrus has no RFC 9404 Blob/get to group
 * them) on top of the metadata requests; the header blocks are immutable (RFC 8621 §4.1) and cached, so a SECOND
 * header FETCH is held to the plain bound: ceil(N / maxObjectsInGet) + 1 requests and no download.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawClient } from './raw-client.ts';

/** One HTTP request the gateway sent to the store: its URL and, for API requests, the method names in order. */
export interface LoggedRequest { url: string; methods: string[] }

/** RFC 8620 §2 `urn:ietf:params:jmap:core` limits the bounds are computed from. */
export interface CoreLimits { maxObjectsInGet: number; maxObjectsInSet: number; maxCallsInRequest: number }

/** What a backend's bed gives the suite once started and seeded. */
export interface BudgetBed {
  imapPort: number;
  user: string;
  password: string;
  /** The limits the store announces in its JMAP session (the gateway's client obeys these). */
  limits: CoreLimits;
  /** The gateway runs with `headerSource: 'raw'`: header blocks come from the raw message (see the header). */
  rawHeaders: boolean;
  close(): Promise<void>;
}

/**
 * Starts the bed: a gateway whose JMAP fetch is `wrap(fetch)`, and an account whose INBOX holds exactly `count`
 * 7-bit CRLF messages made by `budgetMessage` (receivedAt ascending in that order) plus a mailbox named `Archive`.
 */
export type BudgetBedFactory = (wrap: (inner: typeof fetch) => typeof fetch, count: number) => Promise<BudgetBed>;

/** Messages in INBOX. */
export const BUDGET_N = 1000;

const enc = new TextEncoder();

/** The i-th seeded message (1-based): 7-bit header fields only, CRLF line ends, distinct bytes. */
export function budgetMessage(i: number): Uint8Array {
  return enc.encode(`From: Sender ${i} <s${i}@example.org>\r\nTo: r@example.org\r\nSubject: budget ${i}\r\n`
    + `Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <budget${i}@example.org>\r\n\r\nBody ${i}\r\n`);
}

/** Registers the budget tests for one backend under `describe(label)`. */
export function budgetSuite(label: string, start: BudgetBedFactory): void {
  describe(`round trips with ${label}`, () => {
    const N = BUDGET_N;
    let bed: BudgetBed;
    let log: LoggedRequest[] = [];
    let maxGet = 0;
    let maxCalls = 0;
    /** STORE and MOVE write batches: min(maxObjectsInSet, maxObjectsInGet) emails each (JmapBackend). */
    let batch = 0;

    before(async () => {
      bed = await start((inner) => async (input, init) => {
        const body = typeof init?.body === 'string' ? init.body : '';
        const methods = body ? (JSON.parse(body) as { methodCalls: Array<[string]> }).methodCalls.map((m) => m[0]) : [];
        log.push({ url: String(input), methods });
        return inner(input, init);
      }, N);
      maxGet = bed.limits.maxObjectsInGet;
      maxCalls = bed.limits.maxCallsInRequest;
      batch = Math.min(bed.limits.maxObjectsInSet, maxGet);
      assert.ok(maxGet > 0 && maxCalls > 0 && batch > 0, `limits read from the session: ${JSON.stringify(bed.limits)}`);
    });
    after(() => bed?.close());

    async function session(): Promise<RawClient> {
      const c = await RawClient.connect(bed.imapPort);
      await c.line();
      const ok = await c.command('L', `LOGIN "${bed.user}" "${bed.password}"`);
      assert.match(ok.at(-1)!, /^L OK /);
      return c;
    }

    /** Run a command; the requests it cost. */
    async function cost(c: RawClient, tag: string, text: string): Promise<{ lines: string[]; requests: LoggedRequest[] }> {
      log = [];
      const lines = await c.command(tag, text, 60_000);
      assert.match(lines.at(-1)!, new RegExp(`^${tag} OK `), lines.at(-1));
      return { lines, requests: log };
    }
    const isDownload = (r: LoggedRequest) => r.url.includes('/download/');
    const downloads = (r: LoggedRequest[]) => r.filter(isDownload).length;
    const show = (r: LoggedRequest[]) => JSON.stringify(r.map((x) => (isDownload(x) ? 'download' : x.methods)));

    // The account's mailbox tree is kept between sessions (src/session/tree-cache.ts) and checked by Mailbox/changes
    // and a Mailbox/get of the named mailbox in the same request as the sync's Email/changes (RFC 8620 §3.3).
    test('SELECT of an unchanged mailbox: one request (Mailbox/changes, Mailbox/get, Email/changes), whatever its size', async (t) => {
      const first = await session();
      await cost(first, 'a', 'SELECT INBOX'); // the first sight lists the mailbox and assigns UIDs
      first.close();
      const c = await session();
      const { lines, requests } = await cost(c, 'b', 'SELECT INBOX');
      assert.ok(lines.includes(`* ${N} EXISTS`), lines.join('\n'));
      t.diagnostic(`limits ${JSON.stringify(bed.limits)}; warm SELECT: ${requests.length} requests ${show(requests)}`);
      assert.deepEqual(requests.map((r) => r.methods), [['Mailbox/changes', 'Mailbox/get', 'Email/changes']], `warm SELECT cost ${requests.length}: ${show(requests)}`);
      assert.equal(downloads(requests), 0);
      c.close();
    });

    const FETCH_HEADERS = `FETCH 1:${N} (UID RFC822.SIZE FLAGS INTERNALDATE BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)])`;
    const fetched = (lines: string[]) => lines.filter((l) => /^\* \d+ FETCH /.test(l)).length;

    // The whole mailbox: metadata and headers travel in one request of Email/get calls per 1,000 messages.
    test(`a header FETCH of ${N} messages: at most ceil(N / maxObjectsInGet) + 1 requests, no blob download`, async (t) => {
      const c = await session();
      await c.command('s', 'SELECT INBOX');
      const bound = Math.ceil(N / maxGet) + 1;
      const first = await cost(c, 'f', FETCH_HEADERS);
      assert.equal(fetched(first.lines), N);
      if (bed.rawHeaders) {
        // Header blocks from the raw messages: each downloaded once, the rest held to the plain bound.
        const api = first.requests.filter((r) => !isDownload(r));
        t.diagnostic(`first header FETCH: ${api.length} API requests ${show(api)} + ${downloads(first.requests)} downloads`);
        assert.ok(api.length <= bound, `first header FETCH cost ${api.length} API requests > ${bound}: ${show(api)}`);
        assert.ok(downloads(first.requests) <= N, `first header FETCH downloaded ${downloads(first.requests)} > ${N} blobs`);
        const again = await cost(c, 'g', FETCH_HEADERS);
        t.diagnostic(`second header FETCH: ${again.requests.length} requests ${show(again.requests)} (bound ${bound})`);
        assert.equal(fetched(again.lines), N);
        assert.deepEqual(again.lines.filter((l) => l.startsWith('* ')), first.lines.filter((l) => l.startsWith('* ')));
        assert.ok(again.requests.length <= bound, `second header FETCH cost ${again.requests.length} > ${bound}: ${show(again.requests)}`);
        assert.equal(downloads(again.requests), 0, 'header blocks are immutable and cached: no second download');
      } else {
        t.diagnostic(`header FETCH: ${first.requests.length} requests ${show(first.requests)} (bound ${bound})`);
        assert.ok(first.requests.length <= bound, `header FETCH cost ${first.requests.length} > ${bound}: ${show(first.requests)}`);
        assert.equal(downloads(first.requests), 0, 'no blob download for 7-bit headers');
      }
      c.close();
    });

    test('a second BODYSTRUCTURE of the same message downloads nothing', async (t) => {
      const c = await session();
      await c.command('s', 'SELECT INBOX');
      const first = await cost(c, 'a', 'FETCH 7 BODYSTRUCTURE');
      assert.ok(downloads(first.requests) <= 1);
      const again = await cost(c, 'b', 'FETCH 7 BODYSTRUCTURE');
      t.diagnostic(`BODYSTRUCTURE: first ${show(first.requests)}, second ${show(again.requests)}`);
      assert.equal(downloads(again.requests), 0, 'BODYSTRUCTURE is derived once per blob and cached');
      assert.deepEqual(again.lines.filter((l) => l.startsWith('* 7 FETCH')), first.lines.filter((l) => l.startsWith('* 7 FETCH')));
      c.close();
    });

    test(`a STORE on ${N} messages: Email/get + Email/set pairs, batched under the limits`, async (t) => {
      const c = await session();
      await c.command('s', 'SELECT INBOX');
      const { lines, requests } = await cost(c, 'a', `STORE 1:${N} +FLAGS.SILENT (\\Flagged)`);
      assert.equal(lines.length, 1);
      // STORE first reads the flags (Email/get chunks of maxObjectsInGet, maxCallsInRequest per request), then
      // writes in batches of min(maxObjectsInSet, maxObjectsInGet) emails: an Email/get + Email/set pair each.
      const reads = Math.ceil(Math.ceil(N / maxGet) / maxCalls);
      const writes = Math.ceil(Math.ceil(N / batch) / Math.floor(maxCalls / 2));
      t.diagnostic(`STORE: ${requests.length} requests ${show(requests)} (bound ${reads + writes})`);
      assert.ok(requests.length <= reads + writes, `STORE cost ${requests.length} > ${reads + writes}: ${show(requests)}`);
      assert.equal(downloads(requests), 0);
      const check = await cost(c, 'b', `SEARCH NOT FLAGGED`);
      assert.ok(check.lines.includes('* SEARCH'), `every message is \\Flagged: ${check.lines.join('\n')}`);
      c.close();
    });

    test(`a MOVE of ${N} messages: Mailbox/get, Email/get, the batched Email/set, no download`, async (t) => {
      const c = await session();
      await c.command('s', 'SELECT INBOX');
      const { lines, requests } = await cost(c, 'a', `MOVE 1:${N} Archive`);
      assert.equal(lines.filter((l) => / EXPUNGE$/.test(l)).length, N);
      const gets = Math.ceil(Math.ceil(N / maxGet) / maxCalls);
      const writes = Math.ceil(Math.ceil(N / batch) / Math.floor(maxCalls / 2));
      // + Mailbox/get of the destination, + the first sight of the destination (listing, one page), + slack of 1.
      const bound = gets + writes + 3;
      t.diagnostic(`MOVE: ${requests.length} requests ${show(requests)} (bound ${bound})`);
      assert.ok(requests.length <= bound, `MOVE cost ${requests.length} > ${bound}: ${show(requests)}`);
      assert.equal(downloads(requests), 0);
      const status = await cost(c, 'b', 'STATUS Archive (MESSAGES)');
      assert.ok(status.lines.some((l) => /^\* STATUS "?Archive"? \(MESSAGES 1001\)$/.test(l)), status.lines.join('\n'));
      c.close();
    });
  });
}
