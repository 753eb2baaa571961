/**
 * Differential test against Cyrus's own IMAP: one Cyrus account seeded over JMAP with a fixed sample of real
 * messages (the first jwz messages, enmime's edge cases, SpamAssassin evenly spaced; `FULL=1` for all of them) plus
 * the hand-written fixtures, then the same reads through the gateway (IMAP -> JMAP -> Cyrus) and directly from Cyrus
 * IMAP: message count, order, FLAGS, RFC822.SIZE, INTERNALDATE, BODY[] bytes, Thunderbird's header-fields FETCH, a
 * table of SEARCH queries (RFC 9051 §6.4.4) and THREAD=REFERENCES (RFC 5256). Messages are joined by Email id
 * (Cyrus's EMAILID, RFC 8474, against the gateway's UID map). Every difference must be explained by an entry of
 * expectations-cyrus.json (reason: an RFC or a documented Cyrus behaviour); any other difference fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { cyrusAvailable, seedViaJmap, startCyrusBed, toCrlf, type CyrusBed } from '../helpers/cyrus.ts';
import { corpusSample, reportMissing } from '../helpers/corpora.ts';
import { ALL } from '../fixtures/messages.ts';
import { FETCH_MESSAGES } from '../fixtures/fetch-messages.ts';
import { ValueClient, fetchItems, show, type Value as ImapValue } from '../helpers/imap-values.ts';

/** One FETCH response: sequence number and its items by upper-cased name. */
interface FetchRecord { seq: number; items: Map<string, ImapValue> }

/** Sample sizes for `npm test` (FULL=1 takes every message of each corpus). */
const SAMPLE = { jwz: 150, enmime: 100, spam: 200 };
const HEADER_FIELDS = 'BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)]';
const KEYWORDS: Array<[number, string]> = [[3, '$seen'], [5, '$flagged'], [7, '$answered'], [11, '$draft'], [13, '$forwarded'], [17, 'NonJunk'], [19, '$MDNSent'], [23, '$Junk']];

/**
 * SEARCH keys compared between the gateway and Cyrus IMAP: flags and keywords (seeded by KEYWORDS), sizes, dates
 * (receivedAt is 2024-01-01 plus one minute per message), header and text searches on real mail.
 */
const SEARCHES = [
  'ALL', 'SEEN', 'UNSEEN', 'FLAGGED', 'ANSWERED', 'DRAFT', 'KEYWORD $Forwarded', 'KEYWORD NonJunk', 'KEYWORD $MDNSent',
  'UNKEYWORD $Junk', 'LARGER 5000', 'SMALLER 2000', 'BEFORE 1-Jan-2024', 'SINCE 1-Jan-2024', 'ON 1-Jan-2024',
  'SENTBEFORE 1-Jan-2002', 'SENTSINCE 1-Sep-2002', 'SENTON 22-Aug-2002', 'FROM example', 'FROM "zzzz"', 'TO zzzz',
  'CC ilug', 'SUBJECT "re:"', 'SUBJECT spamassassin', 'HEADER List-Id ""', 'HEADER X-Mailer Outlook', 'BODY linux',
  'TEXT razor', 'BODY "unsubscribe"', 'NOT FLAGGED', 'OR SEEN FLAGGED', 'SEEN NOT ANSWERED', '1:50 UNSEEN',
];

/** One observed difference between the gateway and Cyrus IMAP on the same message (or mailbox). */
export interface Difference {
  item: string;
  /** Email id (or `mailbox`). */
  key: string;
  gateway: string;
  direct: string;
}

interface Expectation { id: string; item: string; reason: string; reference: string }

const expectations = JSON.parse(readFileSync(new URL('./expectations-cyrus.json', import.meta.url), 'utf8')) as { peer: string; differences: Expectation[] };

const flagsOf = (v: string) => (v === '' ? [] : v.split(' '));
/** Raw messages by Email id, as Cyrus IMAP returns BODY[] (filled by the BODY[] comparison). */
const rawById = new Map<string, string>();
/** The Email ids a SEARCH difference names as found on one side only (`n hits, only here: id id`). */
const onlyHere = (side: string) => side.split('only here: ')[1]?.split(' ').filter(Boolean) ?? [];
const headerOf = (id: string) => { const m = rawById.get(id) ?? ''; const i = m.indexOf('\r\n\r\n'); return i < 0 ? m : m.slice(0, i); };
/** A Date: header whose year has four digits below 1000 (`Sun, 28 Jul 0102 ...`): RFC 5322 §3.3 reads it as year 102. */
const oddYear = (id: string) => /^Date:[^\r]*\b\d{1,2} [A-Za-z]{3} 0\d{3}\b/im.test(headerOf(id));
/** A charset parameter other than US-ASCII or UTF-8 anywhere in the message (ISO-8859-x, Windows-125x, GB2312...). */
const eightBitCharset = (id: string) => /charset\s*=\s*"?(?!(us-ascii|utf-8)\b)[a-z0-9]/i.test(rawById.get(id) ?? '');
/** A header field of a message, unfolded (RFC 5322 §2.2.3), or ''. */
const field = (id: string, name: string) => new RegExp(`^${name}:([^\\r]*(?:\\r\\n[ \\t][^\\r]*)*)`, 'im').exec(headerOf(id))?.[1]!.replace(/\r\n/g, '') ?? '';
/** Email ids of a THREAD difference (its key). */
const threadIds = (d: Difference) => d.key.split(' ');
/** An RFC 2047 encoded word in a charset other than US-ASCII, UTF-8, ISO-8859-x or Windows-125x. */
const otherCharsetWord = (s: string) => /=\?(?!(us-ascii|utf-8|iso-8859-\d+|windows-125\d)\?)[^?]+\?[bq]\?/i.test(s);
/** A msg-id with white space inside its angle brackets (a header folded inside the id). */
const splitMsgId = (id: string) => /<[^>\s]*\s+[^>]*>/.test(field(id, 'In-Reply-To') + field(id, 'References'));
/** A THREAD answer (`(id id) (id)`) without the threads whose first message has an odd-year Date. */
const withoutOddYears = (threads: string) => threads.slice(1, -1).split(') (').filter((t) => !oddYear(/M[0-9a-f]+/.exec(t)?.[0] ?? '')).join(') (');
/**
 * The rule behind each expectation, narrow enough that it explains only the difference it names. Every entry of
 * expectations-cyrus.json has one here and vice versa (checked below).
 */
const EXPLAINS: Record<string, (d: Difference) => boolean> = {
  // Cyrus marks messages \Recent for the first session that sees them; JMAP has no \Recent (DESIGN.md rule 6).
  'recent-flag': (d) => d.item === 'FLAGS' && sameSet(flagsOf(d.direct).filter((f) => f !== '\\Recent'), flagsOf(d.gateway)),
  // Keywords differ only in case (and \Recent as above): flags compare case-insensitively (RFC 9051 §2.3.2).
  // A message of header fields only (no blank line, no body): RFC 9051 §6.4.5 leaves the blank line out, Cyrus adds it.
  'header-only-message': (d) => d.item.startsWith('BODY[HEADER.FIELDS') && d.direct === `${d.gateway}\r\n`
    && !(rawById.get(d.key) ?? '\r\n\r\n').includes('\r\n\r\n'),
  // Date: with a year like 0102: the gateway takes the year as written, Cyrus as no valid date.
  'odd-year-date': (d) => (/^SEARCH SENT/.test(d.item) && [...onlyHere(d.gateway), ...onlyHere(d.direct)].every(oddYear))
    || (d.item === 'THREAD ORDER' && withoutOddYears(d.gateway) === withoutOddYears(d.direct))
    || (d.item === 'THREAD' && sameSet(d.gateway.match(/M[0-9a-f]+/g) ?? [], d.direct.match(/M[0-9a-f]+/g) ?? []) && threadIds(d).some(oddYear)),
  // THREAD subject grouping (RFC 5256 §2.2 step 5) where Cyrus cannot decode the subject's charset (Big5, GB2312,
  // ISO-2022-JP): it takes different subjects as one base subject; the gateway decodes them.
  'cyrus-subject-charset': (d) => d.item === 'THREAD' && threadIds(d).every((id) => otherCharsetWord(field(id, 'Subject'))),
  // RFC 5256 §2.1 (1): runs of white space in a subject (a folded Subject:) count as one space; Cyrus keeps them,
  // so the gateway gathers more messages under one base subject.
  'cyrus-subject-spaces': (d) => d.item === 'THREAD' && threadIds(d).some((id) => /\S[ \t]{2,}\S/.test(field(id, 'Subject'))),
  // An In-Reply-To / References msg-id folded inside its angle brackets: the gateway joins it back, Cyrus drops it.
  'split-msg-id': (d) => d.item === 'THREAD' && threadIds(d).some(splitMsgId),
  // Cyrus IMAP's SEARCH BODY (and sometimes TEXT) does not look into text declared in an 8-bit charset
  // (ISO-8859-x, Windows-125x, GB2312...): the gateway finds more.
  'cyrus-body-charset': (d) => /^SEARCH (BODY|TEXT) /.test(d.item) && onlyHere(d.direct).length === 0
    && onlyHere(d.gateway).length > 0 && onlyHere(d.gateway).every(eightBitCharset),
  'keyword-case': (d) => d.item === 'FLAGS' && sameSet(
    flagsOf(d.direct).filter((f) => f !== '\\Recent').map((f) => f.toLowerCase()), flagsOf(d.gateway).map((f) => f.toLowerCase())),
};

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && [...a].sort().join(' ') === [...b].sort().join(' ');
}

function text(v: ImapValue | undefined): string {
  if (v === undefined) return '(missing)';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  if (Array.isArray(v)) return v.map((x) => show(x)).join(' ');
  return v ?? 'NIL';
}

/** `UID FETCH` on a ValueClient: the FETCH records in response order (fails unless OK). */
async function fetchRecords(c: ValueClient, text: string): Promise<FetchRecord[]> {
  return [...fetchItems(await c.ok(text))].map(([seq, items]) => ({ seq, items }));
}

if (cyrusAvailable('cyrus-differential')) {
  describe('gateway vs Cyrus IMAP on the same Cyrus account', () => {
    let bed: CyrusBed;
    let imported: Uint8Array[];
    let refused = 0;
    let gw: ValueClient;
    let direct: ValueClient;
    /** UID -> Email id, through the gateway (its UID map) and in Cyrus IMAP (EMAILID). */
    let gwIdOf: Map<number, string>;
    let dIdOf: Map<number, string>;
    /** SEARCH keys / THREAD threads compared, and how many agreed. */
    const agree = { search: 0, searchTotal: 0, threads: 0, threadsTotal: 0 };
    /** Items compared in all (per message: FLAGS, RFC822.SIZE, INTERNALDATE, BODY[], header fields; SEARCH keys; threads). */
    let compared = 0;
    let gwById: Map<string, FetchRecord>;
    let directById: Map<string, FetchRecord>;
    const diffs: Difference[] = [];

    before(async () => {
      const corpus = corpusSample(SAMPLE);
      reportMissing('cyrus-differential', corpus.missing);
      bed = await startCyrusBed();
      const messages = [...ALL, ...Object.values(FETCH_MESSAGES), ...corpus.jwz, ...corpus.enmime, ...corpus.spamAssassin].map(toCrlf);
      const seeded = await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, messages, {
        keywords: (i) => KEYWORDS.filter(([n]) => i % n === 0).map(([, k]) => k), skipRefused: true,
      });
      imported = seeded.messages;
      refused = seeded.refused.length;
      // RFC 8621 §4.8 lets a server refuse a message as invalidEmail; nothing else may be refused.
      for (const r of seeded.refused) assert.equal((r.error as { type?: string }).type, 'invalidEmail', JSON.stringify(r.error));
      gw = await ValueClient.connect(bed.imapPort);
      direct = await ValueClient.connect(bed.cyrus.imapPort);
      for (const c of [gw, direct]) await c.ok(`LOGIN ${bed.user} ${bed.password}`);
    });
    after(async () => {
      gw?.close();
      direct?.close();
      await bed?.close();
    });

    test('EXAMINE INBOX: the same message count', async () => {
      const count = async (c: ValueClient) => Number((await c.ok('EXAMINE INBOX')).find((r) => r[2] === 'EXISTS')![1]);
      const [a, b] = [await count(gw), await count(direct)];
      assert.equal(b, imported.length, 'Cyrus holds every imported message');
      if (a !== b) diffs.push({ item: 'EXISTS', key: 'mailbox', gateway: String(a), direct: String(b) });
    });

    test('FLAGS, RFC822.SIZE, INTERNALDATE and message order agree (messages joined by Email id)', async () => {
      const inbox = await bed.jmap.mailboxIdByRole('inbox');
      const uidToId = new Map((await bed.uidStore.list(bed.accountKey, inbox)).map((e) => [e.uid, e.emailId] as const));
      const gwRecs = await fetchRecords(gw, 'UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)');
      const dRecs = await fetchRecords(direct, 'UID FETCH 1:* (UID EMAILID FLAGS RFC822.SIZE INTERNALDATE)');
      gwIdOf = uidToId;
      dIdOf = new Map(dRecs.map((r) => [Number(r.items.get('UID')), text((r.items.get('EMAILID') as ImapValue[])[0])] as const));
      gwById = new Map(gwRecs.map((r) => [uidToId.get(Number(r.items.get('UID')))!, r] as const));
      directById = new Map(dRecs.map((r) => [text((r.items.get('EMAILID') as ImapValue[])[0]), r] as const));
      assert.equal(gwById.size, gwRecs.length, 'every gateway UID maps to an Email id');
      assert.equal(directById.size, dRecs.length, 'Cyrus gives every message an EMAILID');
      const gwOrder = gwRecs.map((r) => uidToId.get(Number(r.items.get('UID')))).join(' ');
      const dOrder = dRecs.map((r) => text((r.items.get('EMAILID') as ImapValue[])[0])).join(' ');
      if (gwOrder !== dOrder) diffs.push({ item: 'ORDER', key: 'mailbox', gateway: gwOrder, direct: dOrder });
      for (const [id, d] of directById) {
        const g = gwById.get(id);
        if (!g) { diffs.push({ item: 'PRESENT', key: id, gateway: 'missing', direct: 'present' }); continue; }
        for (const item of ['FLAGS', 'RFC822.SIZE', 'INTERNALDATE']) {
          compared++;
          const [a, b] = [text(g.items.get(item)), text(d.items.get(item))];
          if (item === 'FLAGS' ? !sameSet(flagsOf(a), flagsOf(b)) : a !== b) diffs.push({ item, key: id, gateway: a, direct: b });
        }
      }
      for (const id of gwById.keys()) if (!directById.has(id)) diffs.push({ item: 'PRESENT', key: id, gateway: 'present', direct: 'missing' });
    });

    for (const [item, name] of [['BODY.PEEK[]', 'BODY[]'], [HEADER_FIELDS, HEADER_FIELDS.replace('.PEEK', '')]] as const) {
      test(`${name.slice(0, 24)}... bytes agree`, async () => {
        const uidOf = (r: FetchRecord) => Number(r.items.get('UID'));
        const byUid = async (c: ValueClient, recs: Map<string, FetchRecord>) => {
          const out = new Map<number, Uint8Array>();
          for (const r of await fetchRecords(c, `UID FETCH 1:* (UID ${item})`)) out.set(uidOf(r), r.items.get(name.toUpperCase()) as Uint8Array);
          return new Map([...recs].map(([id, r]) => [id, out.get(uidOf(r))] as const));
        };
        const [a, b] = [await byUid(gw, gwById), await byUid(direct, directById)];
        if (name === 'BODY[]') for (const [id, bytes] of b) if (bytes) rawById.set(id, Buffer.from(bytes).toString('latin1'));
        for (const [id, bytes] of b) {
          compared++;
          const mine = a.get(id);
          if (!mine || !bytes || Buffer.compare(Buffer.from(mine), Buffer.from(bytes)) !== 0) {
            diffs.push({ item: name, key: id, gateway: mine ? text(mine).slice(0, 2000) : '(missing)', direct: bytes ? text(bytes).slice(0, 2000) : '(missing)' });
          }
        }
      });
    }

    test('SEARCH: a table of queries finds the same messages (RFC 9051 §6.4.4)', async () => {
      const ids = async (c: ValueClient, of: Map<number, string>, key: string) => {
        const r = (await c.ok(`UID SEARCH ${key}`)).find((u) => u[0] === '*' && String(u[1]).toUpperCase() === 'SEARCH')!;
        return r.slice(2).map((u) => of.get(Number(u)) ?? `uid ${String(u)}`).sort();
      };
      for (const key of SEARCHES) {
        const [a, b] = [await ids(gw, gwIdOf, key), await ids(direct, dIdOf, key)];
        agree.searchTotal++;
        compared++;
        if (a.join(' ') === b.join(' ')) { agree.search++; continue; }
        const onlyGw = a.filter((x) => !b.includes(x));
        const onlyD = b.filter((x) => !a.includes(x));
        diffs.push({ item: `SEARCH ${key}`, key: 'mailbox', gateway: `${a.length} hits, only here: ${onlyGw.join(' ')}`, direct: `${b.length} hits, only here: ${onlyD.join(' ')}` });
      }
      assert.ok(agree.searchTotal === SEARCHES.length);
    });

    test('THREAD=REFERENCES (RFC 5256 §2.2) builds the same threads as Cyrus IMAP', async () => {
      const caps = (await direct.ok('CAPABILITY')).flat().map(String);
      assert.ok(caps.includes('THREAD=REFERENCES'), 'Cyrus IMAP offers THREAD=REFERENCES');
      /** Threads as strings of Email ids (a thread node: id, children in parentheses); one per top-level thread. */
      const threads = async (c: ValueClient, of: Map<number, string>) => {
        const r = (await c.ok('UID THREAD REFERENCES UTF-8 ALL')).find((u) => u[0] === '*' && String(u[1]).toUpperCase() === 'THREAD')!;
        const render = (v: ImapValue): string => (Array.isArray(v) ? `(${v.map(render).join(' ')})` : of.get(Number(v)) ?? `uid ${String(v)}`);
        return r.slice(2).map(render);
      };
      const [a, b] = [await threads(gw, gwIdOf), await threads(direct, dIdOf)];
      const setA = new Set(a);
      agree.threadsTotal = b.length;
      compared += b.length;
      agree.threads = b.filter((t) => setA.has(t)).length;
      const setB = new Set(b);
      // Threads built differently, grouped by the messages they share: one difference per group.
      const onlyA = a.filter((t) => !setB.has(t));
      const onlyB = b.filter((t) => !setA.has(t));
      const idsOf = (t: string) => t.match(/M[0-9a-f]+/g) ?? [];
      const groups: Array<{ gateway: string[]; direct: string[]; ids: Set<string> }> = [];
      for (const [side, t] of [...onlyA.map((t) => ['gateway', t] as const), ...onlyB.map((t) => ['direct', t] as const)]) {
        const mine = new Set(idsOf(t));
        const hit = groups.filter((g) => [...mine].some((id) => g.ids.has(id)));
        const g = { gateway: hit.flatMap((h) => h.gateway), direct: hit.flatMap((h) => h.direct), ids: new Set([...mine, ...hit.flatMap((h) => [...h.ids])]) };
        g[side].push(t);
        groups.splice(0, groups.length, ...groups.filter((x) => !hit.includes(x)), g);
      }
      for (const g of groups) diffs.push({ item: 'THREAD', key: [...g.ids].join(' '), gateway: g.gateway.join(' ') || '(absent)', direct: g.direct.join(' ') || '(absent)' });
      if (a.join(' ') !== b.join(' ') && agree.threads === b.length && a.length === b.length) {
        diffs.push({ item: 'THREAD ORDER', key: 'mailbox', gateway: a.join(' '), direct: b.join(' ') });
      }
      assert.ok(b.length > 0);
    });

    test('every difference is explained in expectations-cyrus.json; every expectation has its rule', () => {
      const ids = expectations.differences.map((e) => e.id);
      assert.deepEqual([...ids].sort(), Object.keys(EXPLAINS).sort(), 'expectations-cyrus.json and EXPLAINS name the same differences');
      for (const e of expectations.differences) assert.ok(e.reason && e.reference, `${e.id} gives its reason and reference`);
      const seen = new Map<string, number>();
      const unexplained: Difference[] = [];
      for (const d of diffs) {
        const e = expectations.differences.find((x) => EXPLAINS[x.id]!(d)); // each rule names the items it covers
        if (e) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
        else unexplained.push(d);
      }
      process.stderr.write(`cyrus-differential: ${imported.length} messages (${refused} refused by Cyrus as invalidEmail), ${compared} items compared, ${diffs.length} differences, explained: ${JSON.stringify(Object.fromEntries(seen))}; SEARCH ${agree.search}/${agree.searchTotal} queries equal; THREAD=REFERENCES ${agree.threads}/${agree.threadsTotal} threads equal\n`);
      if (process.env.CYRUS_DIFF_DUMP) writeFileSync(process.env.CYRUS_DIFF_DUMP, JSON.stringify({ unexplained, messages: Object.fromEntries(rawById) }, null, 1));
      for (const d of unexplained.slice(0, 20)) process.stderr.write(`  unexplained ${d.item} ${d.key}: gateway ${d.gateway.slice(0, 300)} | direct ${d.direct.slice(0, 300)}\n`);
      assert.deepEqual(unexplained.slice(0, 10), [], `${unexplained.length} unexplained differences`);
    });
  });
}
