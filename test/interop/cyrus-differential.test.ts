/**
 * Differential test against Cyrus's own IMAP: one Cyrus account seeded over JMAP with a fixed sample of real
 * messages (SpamAssassin corpus, evenly spaced; `FULL=1` for all 6,046) plus the hand-written fixtures, then the
 * same reads through the gateway (IMAP -> JMAP -> Cyrus) and directly from Cyrus IMAP: message count, order, FLAGS,
 * RFC822.SIZE, INTERNALDATE, BODY[] bytes and Thunderbird's header-fields FETCH. Messages are joined by Email id
 * (Cyrus's EMAILID, RFC 8474, against the gateway's UID map). Every difference must be explained by an entry of
 * expectations-cyrus.json (reason: an RFC or a documented Cyrus behaviour); any other difference fails.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cyrusAvailable, seedViaJmap, spamAssassinMessages, startCyrusBed, toCrlf, type CyrusBed } from '../helpers/cyrus.ts';
import { ALL } from '../fixtures/messages.ts';
import { FETCH_MESSAGES } from '../fixtures/fetch-messages.ts';
import { ImapReader, show, type FetchRecord, type ImapValue } from './imap-reader.ts';

const SAMPLE = 200;
const HEADER_FIELDS = 'BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)]';
const KEYWORDS: Array<[number, string]> = [[3, '$seen'], [5, '$flagged'], [7, '$answered'], [11, '$draft'], [13, '$forwarded'], [17, 'NonJunk'], [19, '$MDNSent'], [23, '$Junk']];

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
/**
 * The rule behind each expectation, narrow enough that it explains only the difference it names. Every entry of
 * expectations-cyrus.json has one here and vice versa (checked below).
 */
const EXPLAINS: Record<string, (d: Difference) => boolean> = {
  // Cyrus marks messages \Recent for the first session that sees them; JMAP has no \Recent (DESIGN.md rule 6).
  'recent-flag': (d) => d.item === 'FLAGS' && sameSet(flagsOf(d.direct).filter((f) => f !== '\\Recent'), flagsOf(d.gateway)),
  // Keywords differ only in case (and \Recent as above): flags compare case-insensitively (RFC 9051 §2.3.2).
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

/** A fixed, spread-out sample of the corpus (all of it with FULL=1); null when the corpus is not installed. */
function corpusSample(): Uint8Array[] | null {
  const all = spamAssassinMessages();
  if (!all) return null;
  if (process.env.FULL) return all;
  const step = all.length / SAMPLE;
  return Array.from({ length: SAMPLE }, (_, i) => all[Math.floor(i * step)]!);
}

if (cyrusAvailable('cyrus-differential')) {
  describe('gateway vs Cyrus IMAP on the same Cyrus account', () => {
    let bed: CyrusBed;
    let imported: Uint8Array[];
    let gw: ImapReader;
    let direct: ImapReader;
    let gwById: Map<string, FetchRecord>;
    let directById: Map<string, FetchRecord>;
    const diffs: Difference[] = [];

    before(async () => {
      const corpus = corpusSample();
      if (!corpus) {
        if (process.env.CI) throw new Error('SpamAssassin corpus missing in CI: run npm run peers');
        process.stderr.write('\n!!!!!!!! SpamAssassin corpus not installed: differential runs on the fixtures only (npm run peers) !!!!!!!!\n\n');
      }
      bed = await startCyrusBed();
      const messages = [...ALL, ...Object.values(FETCH_MESSAGES), ...(corpus ?? [])].map(toCrlf);
      imported = (await seedViaJmap(bed.cyrus.jmapSessionUrl, bed.user, bed.password, messages, {
        keywords: (i) => KEYWORDS.filter(([n]) => i % n === 0).map(([, k]) => k),
      })).messages;
      gw = await ImapReader.connect(bed.imapPort);
      direct = await ImapReader.connect(bed.cyrus.imapPort);
      for (const c of [gw, direct]) {
        const { done } = await c.command('l', `LOGIN ${bed.user} ${bed.password}`);
        assert.equal(done[1], 'OK');
      }
    });
    after(async () => {
      gw?.close();
      direct?.close();
      await bed?.close();
    });

    test('EXAMINE INBOX: the same message count', async () => {
      const count = async (c: ImapReader) => {
        const { untagged, done } = await c.command('e', 'EXAMINE INBOX');
        assert.equal(done[1], 'OK');
        return Number(untagged.find((r) => r[2] === 'EXISTS')![1]);
      };
      const [a, b] = [await count(gw), await count(direct)];
      assert.equal(b, imported.length, 'Cyrus holds every imported message');
      if (a !== b) diffs.push({ item: 'EXISTS', key: 'mailbox', gateway: String(a), direct: String(b) });
    });

    test('FLAGS, RFC822.SIZE, INTERNALDATE and message order agree (messages joined by Email id)', async () => {
      const inbox = await bed.jmap.mailboxIdByRole('inbox');
      const uidToId = new Map((await bed.uidStore.list(bed.accountKey, inbox)).map((e) => [e.uid, e.emailId] as const));
      const gwRecs = await gw.fetch('f', 'UID FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)');
      const dRecs = await direct.fetch('f', 'UID FETCH 1:* (UID EMAILID FLAGS RFC822.SIZE INTERNALDATE)');
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
          const [a, b] = [text(g.items.get(item)), text(d.items.get(item))];
          if (item === 'FLAGS' ? !sameSet(flagsOf(a), flagsOf(b)) : a !== b) diffs.push({ item, key: id, gateway: a, direct: b });
        }
      }
      for (const id of gwById.keys()) if (!directById.has(id)) diffs.push({ item: 'PRESENT', key: id, gateway: 'present', direct: 'missing' });
    });

    for (const [item, name] of [['BODY.PEEK[]', 'BODY[]'], [HEADER_FIELDS, HEADER_FIELDS.replace('.PEEK', '')]] as const) {
      test(`${name.slice(0, 24)}... bytes agree`, async () => {
        const uidOf = (r: FetchRecord) => Number(r.items.get('UID'));
        const byUid = async (c: ImapReader, recs: Map<string, FetchRecord>) => {
          const out = new Map<number, Uint8Array>();
          for (const r of await c.fetch('b', `UID FETCH 1:* (UID ${item})`)) out.set(uidOf(r), r.items.get(name.toUpperCase()) as Uint8Array);
          return new Map([...recs].map(([id, r]) => [id, out.get(uidOf(r))] as const));
        };
        const [a, b] = [await byUid(gw, gwById), await byUid(direct, directById)];
        for (const [id, bytes] of b) {
          const mine = a.get(id);
          if (!mine || !bytes || Buffer.compare(Buffer.from(mine), Buffer.from(bytes)) !== 0) {
            diffs.push({ item: name, key: id, gateway: mine ? text(mine).slice(0, 2000) : '(missing)', direct: bytes ? text(bytes).slice(0, 2000) : '(missing)' });
          }
        }
      });
    }

    test('every difference is explained in expectations-cyrus.json; every expectation has its rule', () => {
      const ids = expectations.differences.map((e) => e.id);
      assert.deepEqual([...ids].sort(), Object.keys(EXPLAINS).sort(), 'expectations-cyrus.json and EXPLAINS name the same differences');
      for (const e of expectations.differences) assert.ok(e.reason && e.reference, `${e.id} gives its reason and reference`);
      const seen = new Map<string, number>();
      const unexplained: Difference[] = [];
      for (const d of diffs) {
        const e = expectations.differences.find((x) => x.item === d.item && EXPLAINS[x.id]!(d));
        if (e) seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
        else unexplained.push(d);
      }
      process.stderr.write(`cyrus-differential: ${imported.length} messages, ${diffs.length} differences, explained: ${JSON.stringify(Object.fromEntries(seen))}\n`);
      assert.deepEqual(unexplained.slice(0, 10), [], `${unexplained.length} unexplained differences`);
    });
  });
}
