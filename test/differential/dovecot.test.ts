/**
 * Differential suite against Dovecot (issue 3, "Must show" #1): the same messages (enmime's MIME edge cases + a
 * SpamAssassin sample; FULL=1: the whole corpus) with the same INTERNALDATEs in a throwaway Dovecot and in the
 * gateway over the embedded store; per message ENVELOPE, BODYSTRUCTURE, BODY, RFC822.SIZE, BODY[section] for every
 * part (and HEADER/TEXT/MIME), BINARY[part] and BINARY.SIZE for leaf parts, then SEARCH results for a table of
 * queries (membership compared per message). Any difference not allowed by expectations-dovecot.json fails; the
 * match rate per item type is printed (docs/differential.md). DIFF_DUMP=file.json writes the unexpected differences;
 * DIFF_KEEP=1 keeps Dovecot's directory (and its log).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dovecotVersion, startDovecot, type DovecotInstance } from '../helpers/dovecot.ts';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { enmimeMessages, spamAssassinMessages, type CorpusMessage } from './corpus.ts';
import { ValueClient, fetchItems, searchHits, type Reply, type Value } from '../helpers/imap-values.ts';
import { allowedBy, canon, canonBody, itemType, partNumbers, same, showCanon, type Canon, type Difference, type Expectation } from './compare.ts';

const FULL = Boolean(process.env.FULL);
const EXPECTATIONS: Expectation[] = (JSON.parse(readFileSync(new URL('./expectations-dovecot.json', import.meta.url), 'utf8')) as { allowed: Expectation[] }).allowed;
/** INTERNALDATE of message i: 7 hours apart, so SINCE/BEFORE/ON see different days. */
const BASE_MS = Date.UTC(2023, 0, 1);
const internalDateMs = (i: number) => BASE_MS + i * 7 * 3600_000;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const imapDate = (ms: number) => { const d = new Date(ms); return `${d.getUTCDate()}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()}`; };

/** Item types reported (and tested) one by one. */
const TYPES = ['ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'RFC822.SIZE', 'BODY[]', 'BODY[HEADER]', 'BODY[TEXT]', 'BODY[n]',
  'BODY[n.MIME]', 'BODY[n.HEADER]', 'BODY[n.TEXT]', 'BINARY[n]', 'BINARY.SIZE[n]', 'SEARCH'];

/** Only where the corpus has message/rfc822 parts (the default sample has none). */
const OPTIONAL = new Set(['BODY[n.HEADER]', 'BODY[n.TEXT]']);

const enmime = enmimeMessages();
const spam = spamAssassinMessages(FULL);
const version = dovecotVersion();
const missing = [!version && 'Dovecot imapd', !enmime && 'enmime testdata (golang-github-jhillyerd-enmime-dev)',
  !spam && 'SpamAssassin corpus'].filter(Boolean).join(', ');

if (missing) {
  if (process.env.CI) test('differential suite: Dovecot and corpora are installed (CI)', () => assert.fail(`missing ${missing}: run npm run peers as root`));
  else process.stderr.write(`\n!!!!!!!! missing ${missing}: differential suite against Dovecot NOT RUN (npm run peers) !!!!!!!!\n\n`);
} else {
  const messages: CorpusMessage[] = [...enmime!, ...spam!];
  let dir = '';
  let dovecot: DovecotInstance;
  let bed: TestBed;
  let dc: Conn;
  let gw: Conn;
  /** Differences no expectation allows (written to DIFF_DUMP). */
  const diffs: Difference[] = [];
  const stats = new Map<string, { compared: number; equal: number; allowed: number; known: number }>();
  const used = new Set<Expectation>();
  const unexpected = new Map<string, string[]>();
  let orderProblem = '';

  function record(i: number, item: string, d: Canon, g: Canon, body = false): void {
    const type = itemType(item);
    const s = stats.get(type) ?? { compared: 0, equal: 0, allowed: 0, known: 0 };
    stats.set(type, s);
    s.compared++;
    const [dd, gg] = body ? [canonBody(d), canonBody(g)] : [d, g];
    if (same(dd, gg)) { s.equal++; return; }
    const m = messages[i]!;
    const x: Difference = { message: m.name, item, type, dovecot: dd, gateway: gg };
    const e = allowedBy(x, { bareLf: m.bareLf, hasDate: /(^|\n)date:/i.test(headerOf(m.raw)) }, EXPECTATIONS);
    if (e?.bug) { s.known++; used.add(e); return; }
    if (e) { s.allowed++; used.add(e); return; }
    diffs.push(x);
    const list = unexpected.get(type) ?? [];
    unexpected.set(type, list);
    list.push(`${m.name} ${item}${m.bareLf ? ` (${m.bareLf} bare LF)` : ''}\n    dovecot: ${showCanon(d).slice(0, 600)}\n    gateway: ${showCanon(g).slice(0, 600)}`);
  }

  /** The header block of a message (up to the first empty line), latin1. */
  const headerOf = (raw: Uint8Array): string => { const t = Buffer.from(raw).toString('latin1'); const e = t.search(/\r?\n\r?\n/); return e < 0 ? t : t.slice(0, e); };

  /** The value of `key` in a FETCH of message `seq`, or `NO [CODE]` when the command failed. */
  const valueOf = (r: Reply, seq: number, key: string): Canon => {
    if (r.done.status === 'BYE') return `BYE ${r.done.text}`;
    if (r.done.status !== 'OK') return `${r.done.status} ${/^\[[^\]]*\]/.exec(r.done.text)?.[0] ?? ''}`.trim();
    const v: Value | undefined = fetchItems(r.untagged).get(seq)?.get(key);
    return v === undefined ? '(absent)' : canon(v);
  };

  /** FETCH `items` of message i on both servers; records each key of `keys`. */
  async function compareFetch(i: number, items: string, keys: Array<{ key: string; body?: boolean }>): Promise<void> {
    const seq = i + 1;
    const [d, g] = await Promise.all([dc.command(`FETCH ${seq} (${items})`), gw.command(`FETCH ${seq} (${items})`)]);
    for (const k of keys) record(i, k.key, valueOf(d, seq, k.key), valueOf(g, seq, k.key), k.body);
  }

  async function compareMessage(i: number): Promise<void> {
    const seq = i + 1;
    const top = ['ENVELOPE', 'BODYSTRUCTURE', 'BODY', 'RFC822.SIZE', 'BODY[]', 'BODY[HEADER]', 'BODY[TEXT]'];
    const fetch = 'ENVELOPE BODYSTRUCTURE BODY RFC822.SIZE BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT]';
    const [d, g] = await Promise.all([dc.command(`FETCH ${seq} (${fetch})`), gw.command(`FETCH ${seq} (${fetch})`)]);
    for (const k of top) record(i, k, valueOf(d, seq, k), valueOf(g, seq, k), k === 'BODY' || k === 'BODYSTRUCTURE');
    const parts = new Map<string, { part: string; leaf: boolean; message: boolean }>();
    for (const r of [d, g]) for (const p of partNumbers(valueOf(r, seq, 'BODYSTRUCTURE'))) if (!parts.has(p.part)) parts.set(p.part, p);
    const work: Array<Promise<void>> = [];
    for (const p of parts.values()) {
      const sub = p.message ? [`${p.part}.HEADER`, `${p.part}.TEXT`] : [];
      const secs = [p.part, `${p.part}.MIME`, ...sub];
      work.push(compareFetch(i, secs.map((s) => `BODY.PEEK[${s}]`).join(' '), secs.map((s) => ({ key: `BODY[${s}]` }))));
      if (p.leaf && !p.message) {
        work.push(compareFetch(i, `BINARY.PEEK[${p.part}]`, [{ key: `BINARY[${p.part}]` }]));
        work.push(compareFetch(i, `BINARY.SIZE[${p.part}]`, [{ key: `BINARY.SIZE[${p.part}]` }]));
      }
    }
    await Promise.all(work);
  }

  /** SEARCH on both (text may carry a LITERAL+ literal); membership compared per message. */
  async function compareSearch(query: string): Promise<void> {
    const cmd = `SEARCH ${query}`;
    const [d, g] = await Promise.all([dc.command(cmd), gw.command(cmd)]);
    const status = (r: Reply) => (r.done.status === 'OK' ? null : `${r.done.status} ${r.done.text}`);
    const item = `SEARCH ${query.replace(/\{\d+\+\}\r\n/, '')}`;
    if (status(d) || status(g)) { record(0, item, status(d), status(g)); return; }
    const dh = new Set(searchHits(d.untagged));
    const gh = new Set(searchHits(g.untagged));
    messages.forEach((_, i) => record(i, item, dh.has(i + 1) ? 'hit' : 'miss', gh.has(i + 1) ? 'hit' : 'miss'));
  }

  /**
   * A logged-in session with INBOX selected that reconnects when the server drops it: a command that got no
   * completion answers `BYE <why>` (Dovecot ends the session on some malformed content: docs/differential.md).
   */
  class Conn {
    private client: Promise<ValueClient>;
    constructor(private readonly port: number, private readonly login: string) { this.client = this.open(); }
    private async open(): Promise<ValueClient> {
      const c = await ValueClient.connect(this.port);
      await c.ok(this.login);
      await c.ok('SELECT INBOX');
      return c;
    }
    /** One command at a time: when Dovecot drops a session, only the command that caused it answers BYE. */
    private queue: Promise<unknown> = Promise.resolve();
    command(text: string): Promise<Reply> {
      const run = this.queue.then(() => this.send(text));
      this.queue = run.catch(() => undefined);
      return run;
    }
    private async send(text: string): Promise<Reply> {
      const c = await this.client;
      try {
        return await c.command(text);
      } catch (e) {
        const now = await this.client;
        if (now === c) { c.close(); this.client = this.open(); }
        return { untagged: [], done: { status: 'BYE', text: (e as Error).message.replace(/ \[\d{4}-.*$/, '') } };
      }
    }
    async ok(text: string): Promise<Value[][]> {
      const r = await this.command(text);
      if (r.done.status !== 'OK') throw new Error(`${text}: ${r.done.status} ${r.done.text}`);
      return r.untagged;
    }
    async close(): Promise<void> { (await this.client).close(); }
  }

  const utf8 = (key: string, text: string) => `CHARSET UTF-8 ${key} {${Buffer.byteLength(text)}+}\r\n${text}`;
  const seqs = (pick: (i: number) => boolean) => messages.map((_, i) => i + 1).filter((s) => pick(s - 1));

  describe(`differential: gateway vs Dovecot ${version} (${messages.length} messages)`, { timeout: FULL ? 3_600_000 : 300_000 }, () => {
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gw-diff-dovecot-'));
      const user = 'diff@example.test';
      const password = 'diff-password';
      [dovecot, bed] = await Promise.all([
        startDovecot({ dir, user, password, messages: messages.map((m) => m.raw), internalDateMs }),
        startTestBed(),
      ]);
      messages.forEach((m, i) => bed.store.importMessage(bed.user, 'INBOX', m.raw, { receivedAt: new Date(internalDateMs(i)) }));
      dc = new Conn(dovecot.port, `LOGIN "${user}" "${password}"`);
      gw = new Conn(bed.imapPort, `LOGIN "${bed.user}" "${bed.password}"`);
      // Both must hold the corpus in the same order: INTERNALDATE of sequence number s is internalDateMs(s - 1).
      const [d, g] = await Promise.all([dc.ok('FETCH 1:* INTERNALDATE'), gw.ok('FETCH 1:* INTERNALDATE')]);
      for (const [name, u] of [['dovecot', d], ['gateway', g]] as const) {
        const got = fetchItems(u);
        if (got.size !== messages.length) orderProblem += `${name}: ${got.size} messages, not ${messages.length}\n`;
        messages.forEach((m, i) => {
          const v = got.get(i + 1)?.get('INTERNALDATE');
          const ms = Date.parse(String(canon(v ?? null)).trim().replace(/^(\d+)-(\w+)-(\d+) /, '$2 $1 $3 '));
          if (ms !== internalDateMs(i)) orderProblem += `${name}: message ${i + 1} (${m.name}) INTERNALDATE ${String(canon(v ?? null))}\n`;
        });
      }
      for (let i = 0; i < messages.length; i += 8) {
        await Promise.all(messages.slice(i, i + 8).map((_, k) => compareMessage(i + k)));
      }
      // Flags first (the same STOREs on both), then the query table.
      const stores: Array<[string, (i: number) => boolean]> = [['\\Flagged', (i) => i % 5 === 1], ['\\Seen', (i) => i % 3 === 0],
        ['$Junk', (i) => i % 7 === 2], ['\\Answered', (i) => i % 11 === 4]];
      for (const [flag, pick] of stores) {
        const all = seqs(pick);
        for (let k = 0; k < all.length; k += 200) {
          const set = all.slice(k, k + 200).join(',');
          await Promise.all([dc.ok(`STORE ${set} +FLAGS.SILENT (${flag})`), gw.ok(`STORE ${set} +FLAGS.SILENT (${flag})`)]);
        }
      }
      const mid = internalDateMs(Math.floor(messages.length / 2));
      const queries = [
        'FROM "@"', 'FROM "com"', 'FROM "example"', 'FROM "jm"', 'FROM "James"', 'TO "@"', 'TO "users"', 'CC "@"',
        'SUBJECT "re:"', 'SUBJECT "the"', 'SUBJECT "test"', 'SUBJECT "MIME UTF8"', 'SUBJECT "[SPAM]"',
        'BODY "the"', 'BODY "click"', 'BODY "mime"', 'BODY "unsubscribe"', 'TEXT "html"', 'TEXT "boundary"', 'TEXT "example.com"',
        utf8('SUBJECT', '¢'), utf8('SUBJECT', 'test ¢'), utf8('FROM', 'ö'), utf8('BODY', 'é'), utf8('TEXT', 'ü'), utf8('BODY', '€'),
        'LARGER 3000', 'SMALLER 1000', 'LARGER 10000', 'NOT SMALLER 2500',
        `SINCE ${imapDate(mid)}`, `BEFORE ${imapDate(mid)}`, `ON ${imapDate(mid)}`, `ON ${imapDate(internalDateMs(3))}`,
        'SENTSINCE 1-Aug-2002', 'SENTBEFORE 1-Jan-2003', 'SENTON 22-Aug-2002', 'SENTSINCE 1-Jan-2010',
        'HEADER Message-ID "@"', 'HEADER Message-ID ""', 'HEADER Content-Type "multipart"', 'HEADER X-Mailer ""',
        'HEADER Received "localhost"', 'NOT FROM "com"', 'OR SUBJECT "re" FROM "org"', 'NOT OR BODY "free" SUBJECT "free"',
        'FLAGGED', 'UNFLAGGED', 'SEEN', 'UNSEEN', 'ANSWERED', 'KEYWORD $Junk', 'NOT KEYWORD $Junk', 'OR FLAGGED SEEN',
        'FLAGGED SEEN', 'NOT (SEEN OR ANSWERED FLAGGED)', 'UNSEEN LARGER 2000 FROM "@"',
      ];
      for (const q of queries) await compareSearch(q);
    });

    after(async () => {
      if (process.env.DIFF_DUMP) writeFileSync(process.env.DIFF_DUMP, JSON.stringify(diffs.map((x) => ({ ...x, bareLf: messages.find((m) => m.name === x.message)!.bareLf })), null, 1));
      await Promise.all([dc?.close(), gw?.close()]);
      await Promise.all([dovecot?.stop(), bed?.close()]);
      if (dir && !process.env.DIFF_KEEP) rmSync(dir, { recursive: true, force: true });
    });

    test('both servers hold the corpus in the same order (INTERNALDATE of every message)', () => {
      assert.equal(orderProblem, '');
    });

    for (const type of TYPES) {
      test(`${type} matches Dovecot (or differs as expectations-dovecot.json allows)`, () => {
        if (!OPTIONAL.has(type)) assert.ok((stats.get(type)?.compared ?? 0) > 0, `no ${type} compared`);
        const list = unexpected.get(type) ?? [];
        assert.equal(list.length, 0, `${list.length} unexpected difference(s):\n  ${list.slice(0, 25).join('\n  ')}`);
      });
    }

    test('every expectation is used (no stale allowances)', () => {
      const stale = EXPECTATIONS.filter((e) => !used.has(e)).map((e) => `${e.message} ${e.item}`);
      assert.deepEqual(FULL ? [] : stale, []);
    });

    test('match rate (items equal / items compared, per item type)', () => {
      const rows = [...stats].map(([t, s]) => `| ${t} | ${s.equal} / ${s.compared} | ${(100 * s.equal / s.compared).toFixed(1)}% | ${s.allowed} | ${s.known} |`);
      const total = [...stats.values()].reduce((a, s) => ({ c: a.c + s.compared, e: a.e + s.equal, x: a.x + s.allowed, k: a.k + s.known }), { c: 0, e: 0, x: 0, k: 0 });
      process.stderr.write(`\ndifferential vs Dovecot ${version}, ${messages.length} messages (${enmime!.length} enmime, ${spam!.length} SpamAssassin)\n`
        + `| item | equal / compared | rate | allowed (RFC) | known bugs / untriaged |\n|---|---|---|---|---|\n${rows.join('\n')}\n`
        + `| all | ${total.e} / ${total.c} | ${(100 * total.e / total.c).toFixed(1)}% | ${total.x} | ${total.k} |\n\n`);
      assert.ok(total.c > 0);
    });
  });
}
