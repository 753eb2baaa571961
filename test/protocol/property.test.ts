// Property tests (fast-check): command round trips, framer/parser robustness and chunking invariance,
// encoder string round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeCommand } from '../../src/protocol/encode-command.ts';
import { encodeResponse } from '../../src/protocol/encode.ts';
import { Framer, type FramerEvent } from '../../src/protocol/framer.ts';
import { withLimits } from '../../src/protocol/limits.ts';
import { parseCommand } from '../../src/protocol/parse.ts';
import { Reader } from '../../src/protocol/reader.ts';
import type {
  Command, FetchItem, ListSelectOption, SearchKey, SearchReturnOption, SeqRange, SequenceSet, SortCriterion, StatusItem,
} from '../../src/protocol/types.ts';

const RUNS = process.env.FULL ? 2000 : 300;

// ------------------------------------------------------------------------------------------------ generators

const inboxCase = (s: string) => (s.toUpperCase() === 'INBOX' ? 'INBOX' : s);
const tagChars = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz.-_!#$&\'/:;<=>?@[]^`|}~'.split('');
const atomChars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_$!#&\'+,/:;<=>?@^`|}~'.split('');
const tag = fc.array(fc.constantFrom(...tagChars), { minLength: 1, maxLength: 8 }).map((a) => a.join(''));
const atom = fc.array(fc.constantFrom(...atomChars), { minLength: 1, maxLength: 10 }).map((a) => a.join(''));
const upperAtom = atom.map((a) => a.toUpperCase()).filter((a) => a !== 'NIL');
const keyword = atom.filter((a) => a.toUpperCase() !== 'NIL');
const text = fc.oneof(
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('INBOX', 'inbox', 'NIL', '', 'a b', 'x"y\\z', 'line\r\nbreak', '{5}', '*%', 'Entwürfe'),
).map((s) => s.replace(/\0/g, ''));
const nz = fc.integer({ min: 1, max: 4294967295 });
const modseq = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const seqNumber = fc.oneof(nz, fc.constant('*' as const));
const range: fc.Arbitrary<SeqRange> = fc.oneof(
  seqNumber.map((n) => ({ from: n, to: n })),
  fc.tuple(seqNumber, seqNumber).map(([from, to]) => ({ from, to })),
);
const sequenceSet: fc.Arbitrary<SequenceSet> = fc.oneof(
  { weight: 5, arbitrary: fc.array(range, { minLength: 1, maxLength: 5 }) },
  { weight: 1, arbitrary: fc.constant('$' as const) },
);
const systemFlag = fc.constantFrom('\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft');
const storeFlag = fc.oneof(systemFlag, keyword);
const statusItems = fc.uniqueArray(fc.constantFrom<StatusItem>(
  'MESSAGES', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'DELETED', 'SIZE', 'RECENT', 'HIGHESTMODSEQ', 'APPENDLIMIT', 'MAILBOXID',
  'DELETED-STORAGE',
), { minLength: 1 });
const date = fc.record({ y: fc.integer({ min: 1900, max: 2100 }), m: fc.integer({ min: 1, max: 12 }), d: fc.integer({ min: 1, max: 28 }) })
  .map(({ y, m, d }) => `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`);
const headerName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9-]{0,12}$/);
const objectId = fc.stringMatching(/^[A-Za-z0-9_-]{1,20}$/);

const searchKey: fc.Arbitrary<SearchKey> = fc.letrec<{ key: SearchKey }>((tie) => ({
  key: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<SearchKey>({ type: 'ALL' }),
    fc.constant<SearchKey>({ type: 'SAVEDATESUPPORTED' }),
    fc.oneof(systemFlag, fc.constant('\\Recent'), keyword).map((flag): SearchKey => ({ type: 'FLAG', flag })),
    sequenceSet.map((set): SearchKey => ({ type: 'SEQUENCE', set })),
    sequenceSet.map((set): SearchKey => ({ type: 'UID', set })),
    fc.tuple(fc.oneof(headerName, text), text).map(([field, value]): SearchKey => ({ type: 'HEADER', field, value })),
    text.map((value): SearchKey => ({ type: 'BODY', value })),
    text.map((value): SearchKey => ({ type: 'TEXT', value })),
    fc.record({
      field: fc.constantFrom('INTERNAL' as const, 'SENT' as const, 'SAVED' as const),
      op: fc.constantFrom('BEFORE' as const, 'ON' as const, 'SINCE' as const),
      date,
    }).map((d): SearchKey => ({ type: 'DATE', ...d })),
    fc.record({ op: fc.constantFrom('LARGER' as const, 'SMALLER' as const), size: fc.integer({ min: 0, max: 2 ** 40 }) })
      .map((s): SearchKey => ({ type: 'SIZE', ...s })),
    fc.tuple(fc.constantFrom('OLDER' as const, 'YOUNGER' as const), nz).map(([type, seconds]): SearchKey => ({ type, seconds })),
    fc.tuple(modseq, fc.option(fc.record({ name: text, entryType: fc.constantFrom('priv' as const, 'shared' as const, 'all' as const) }), { nil: undefined }))
      .map(([m, entry]): SearchKey => (entry ? { type: 'MODSEQ', modseq: m, entry } : { type: 'MODSEQ', modseq: m })),
    fc.tuple(fc.constantFrom('EMAILID' as const, 'THREADID' as const), objectId).map(([type, id]): SearchKey => ({ type, id })),
    tie('key').map((key): SearchKey => ({ type: 'NOT', key })),
    fc.tuple(tie('key'), tie('key')).map(([left, right]): SearchKey => ({ type: 'OR', left, right })),
    fc.array(tie('key'), { minLength: 1, maxLength: 3 }).map((keys): SearchKey => ({ type: 'AND', keys })),
  ),
})).key;
const criteria = fc.array(searchKey, { minLength: 1, maxLength: 4 });

const partial = fc.option(fc.record({ offset: fc.integer({ min: 0, max: 2 ** 40 }), length: fc.integer({ min: 1, max: 2 ** 40 }) }), { nil: undefined });
const part = fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 4 });
const section = fc.oneof(
  part.map((p) => ({ part: p })),
  fc.tuple(part, fc.constantFrom('HEADER' as const, 'TEXT' as const)).map(([p, kind]) => ({ part: p, kind })),
  fc.tuple(part.filter((p) => p.length > 0)).map(([p]) => ({ part: p, kind: 'MIME' as const })),
  fc.tuple(part, fc.constantFrom('HEADER.FIELDS' as const, 'HEADER.FIELDS.NOT' as const), fc.array(headerName, { minLength: 1, maxLength: 4 }))
    .map(([p, kind, fields]) => ({ part: p, kind, fields })),
);
const fetchItem: fc.Arbitrary<FetchItem> = fc.oneof(
  fc.constantFrom<FetchItem>(
    { type: 'FLAGS' }, { type: 'UID' }, { type: 'INTERNALDATE' }, { type: 'RFC822.SIZE' }, { type: 'ENVELOPE' },
    { type: 'BODYSTRUCTURE', extended: true }, { type: 'BODYSTRUCTURE', extended: false }, { type: 'RFC822' },
    { type: 'RFC822.HEADER' }, { type: 'RFC822.TEXT' }, { type: 'MODSEQ' }, { type: 'EMAILID' }, { type: 'THREADID' },
    { type: 'PREVIEW', lazy: false }, { type: 'PREVIEW', lazy: true }, { type: 'SAVEDATE' },
  ),
  fc.tuple(fc.boolean(), section, partial).map(([peek, s, p]): FetchItem => (p ? { type: 'BODY', peek, section: s, partial: p } : { type: 'BODY', peek, section: s })),
  fc.tuple(fc.boolean(), part, partial).map(([peek, pt, p]): FetchItem => (p ? { type: 'BINARY', peek, part: pt, partial: p } : { type: 'BINARY', peek, part: pt })),
  part.map((pt): FetchItem => ({ type: 'BINARY.SIZE', part: pt })),
);

const bytes = fc.uint8Array({ maxLength: 40 });
const appendMessage = fc.record({
  flags: fc.array(storeFlag, { maxLength: 3 }),
  date: fc.option(fc.integer({ min: 0, max: 4102444800 }).map((s) => new Date(s * 1000)), { nil: undefined }),
  binary: fc.boolean(),
  utf8: fc.boolean(),
  message: bytes,
}).map(({ date: d, binary, utf8, message, flags }) => {
  const m = { flags, message: binary || utf8 ? message : message.map((b) => b || 1), binary: binary || utf8, utf8 };
  return d ? { ...m, date: d } : m;
});

const command: fc.Arbitrary<Command> = fc.tuple(tag, fc.oneof(
  fc.constantFrom('CAPABILITY', 'NOOP', 'LOGOUT', 'STARTTLS', 'NAMESPACE', 'IDLE', 'CHECK', 'CLOSE', 'UNSELECT', 'GETJMAPACCESS')
    .map((type) => ({ type })),
  fc.option(fc.array(fc.tuple(text, fc.option(text, { nil: null })), { maxLength: 5 }), { nil: null }).map((params) => ({ type: 'ID', params })),
  fc.array(upperAtom, { minLength: 1, maxLength: 3 }).map((capabilities) => ({ type: 'ENABLE', capabilities })),
  fc.tuple(text, text).map(([username, password]) => ({ type: 'LOGIN', username, password })),
  fc.tuple(upperAtom, fc.option(fc.base64String({ maxLength: 40 }), { nil: undefined }))
    .map(([mechanism, ir]) => (ir === undefined ? { type: 'AUTHENTICATE', mechanism } : { type: 'AUTHENTICATE', mechanism, initialResponse: ir })),
  fc.tuple(fc.constantFrom('SELECT', 'EXAMINE'), text, fc.boolean(), fc.option(fc.record({
    uidValidity: nz, modseq, knownUids: fc.option(sequenceSet, { nil: undefined }),
    seqMatch: fc.option(fc.record({ seqs: sequenceSet, uids: sequenceSet }), { nil: undefined }),
  }), { nil: undefined })).map(([type, mailbox, condstore, q]) => {
    if (!q) return { type, mailbox: inboxCase(mailbox), condstore };
    const qresync: Record<string, unknown> = { uidValidity: q.uidValidity, modseq: q.modseq };
    if (q.knownUids) qresync.knownUids = q.knownUids;
    if (q.knownUids && q.seqMatch) qresync.seqMatch = q.seqMatch;
    return { type, mailbox: inboxCase(mailbox), condstore, qresync };
  }),
  fc.tuple(text, fc.option(fc.array(fc.constantFrom('\\Sent', '\\Drafts', '\\All', '\\Junk', '\\Trash', '\\Archive', '\\Flagged'), { maxLength: 3 }), { nil: undefined }))
    .map(([mailbox, specialUse]) => (specialUse ? { type: 'CREATE', mailbox: inboxCase(mailbox), specialUse } : { type: 'CREATE', mailbox: inboxCase(mailbox) })),
  fc.tuple(fc.constantFrom('DELETE', 'SUBSCRIBE', 'UNSUBSCRIBE', 'GETQUOTAROOT'), text).map(([type, mailbox]) => ({ type, mailbox: inboxCase(mailbox) })),
  fc.tuple(text, text).map(([a, b]) => ({ type: 'RENAME', mailbox: inboxCase(a), newName: inboxCase(b) })),
  fc.tuple(fc.boolean(), text, fc.array(text, { minLength: 1, maxLength: 3 }),
    fc.uniqueArray(fc.constantFrom<ListSelectOption>('SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE')),
    fc.record({ subscribed: fc.boolean(), children: fc.boolean(), specialUse: fc.boolean(), status: fc.option(statusItems, { nil: undefined }) }))
    .map(([extended, reference, patterns, sel, ret]) => {
      const returnOptions: Record<string, unknown> = { subscribed: ret.subscribed, children: ret.children, specialUse: ret.specialUse };
      if (ret.status) returnOptions.status = ret.status;
      const selectOptions = sel.includes('RECURSIVEMATCH') && !sel.some((o) => o === 'SUBSCRIBED' || o === 'SPECIAL-USE') ? [...sel, 'SUBSCRIBED'] : sel;
      return extended
        ? { type: 'LIST', reference: inboxCase(reference), patterns: patterns.map(inboxCase), selectOptions, returnOptions, extended }
        : {
          type: 'LIST', reference: inboxCase(reference), patterns: [inboxCase(patterns[0]!)], selectOptions: [],
          returnOptions: { subscribed: false, children: false, specialUse: false }, extended,
        };
    }),
  fc.tuple(text, text).map(([reference, pattern]) => ({ type: 'LSUB', reference: inboxCase(reference), pattern: inboxCase(pattern) })),
  fc.tuple(text, statusItems).map(([mailbox, items]) => ({ type: 'STATUS', mailbox: inboxCase(mailbox), items })),
  fc.tuple(text, fc.array(appendMessage, { minLength: 1, maxLength: 3 })).map(([mailbox, messages]) => ({ type: 'APPEND', mailbox: inboxCase(mailbox), messages })),
  fc.oneof(fc.constant({ type: 'EXPUNGE', uid: false }), sequenceSet.map((sequence) => ({ type: 'EXPUNGE', uid: true, sequence }))),
  fc.tuple(fc.boolean(), fc.option(fc.constantFrom('UTF-8', 'US-ASCII'), { nil: undefined }),
    fc.option(fc.uniqueArray(fc.constantFrom<SearchReturnOption>('MIN', 'MAX', 'ALL', 'COUNT', 'SAVE')), { nil: undefined }), criteria)
    .map(([uid, charset, returnOptions, crit]) => ({
      type: 'SEARCH', uid, criteria: crit, ...(charset ? { charset } : {}), ...(returnOptions ? { returnOptions } : {}),
    })),
  fc.tuple(fc.boolean(), fc.array(fc.record({
    key: fc.constantFrom<SortCriterion['key']>('ARRIVAL', 'CC', 'DATE', 'FROM', 'SIZE', 'SUBJECT', 'TO', 'DISPLAYFROM', 'DISPLAYTO'),
    reverse: fc.boolean(),
  }), { minLength: 1, maxLength: 3 }), fc.constantFrom('UTF-8', 'US-ASCII'), criteria)
    .map(([uid, sortCriteria, charset, crit]) => ({ type: 'SORT', uid, sortCriteria, charset, criteria: crit })),
  fc.tuple(fc.boolean(), fc.constantFrom('ORDEREDSUBJECT', 'REFERENCES'), fc.constantFrom('UTF-8', 'US-ASCII'), criteria)
    .map(([uid, algorithm, charset, crit]) => ({ type: 'THREAD', uid, algorithm, charset, criteria: crit })),
  fc.tuple(fc.boolean(), sequenceSet, fc.array(fetchItem, { minLength: 1, maxLength: 5 }), fc.option(modseq, { nil: undefined }), fc.boolean())
    .map(([uid, sequence, items, changedSince, vanished]) => ({
      type: 'FETCH', uid, sequence, items, vanished: vanished && uid && changedSince !== undefined,
      ...(changedSince !== undefined ? { changedSince } : {}),
    })),
  fc.tuple(fc.boolean(), sequenceSet, fc.constantFrom('replace', 'add', 'remove'), fc.boolean(), fc.array(storeFlag, { maxLength: 4 }), fc.option(modseq, { nil: undefined }))
    .map(([uid, sequence, action, silent, flags, unchangedSince]) => ({
      type: 'STORE', uid, sequence, action, silent, flags, ...(unchangedSince !== undefined ? { unchangedSince } : {}),
    })),
  fc.tuple(fc.constantFrom('COPY', 'MOVE'), fc.boolean(), sequenceSet, text)
    .map(([type, uid, sequence, mailbox]) => ({ type, uid, sequence, mailbox: inboxCase(mailbox) })),
  text.map((root) => ({ type: 'GETQUOTA', root })),
  fc.tuple(text, fc.array(fc.record({ resource: upperAtom, limit: fc.integer({ min: 0, max: 2 ** 50 }) }), { maxLength: 3 }))
    .map(([root, limits]) => ({ type: 'SETQUOTA', root, limits })),
  upperAtom.map((mechanism) => ({ type: 'COMPRESS', mechanism })),
)).map(([t, body]) => ({ tag: t, ...body }) as Command);

// ------------------------------------------------------------------------------------------------ properties

function frames(framer: Framer, chunks: Uint8Array[]): FramerEvent[] {
  return chunks.flatMap((c) => framer.push(c));
}

function split(data: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (data.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const p of [...points, data.length]) {
    out.push(data.subarray(at, p));
    at = p;
  }
  return out;
}

test('encodeCommand then parseCommand gives back the same Command AST', () => {
  fc.assert(fc.property(command, (c) => {
    const r = parseCommand(encodeCommand(c), { utf8: true });
    // structuredClone: fc.record builds null-prototype objects, the parser plain ones.
    assert.deepEqual(r, { ok: true, command: structuredClone(c) });
  }), { numRuns: RUNS * 3 });
});

test('an encoded command is exactly one frame, whatever the chunking', () => {
  fc.assert(fc.property(fc.array(command, { minLength: 1, maxLength: 4 }), fc.array(fc.nat(), { maxLength: 12 }), (cmds, cuts) => {
    const wire = cmds.map(encodeCommand);
    const all = new Uint8Array(wire.reduce((n, w) => n + w.length, 0));
    let at = 0;
    for (const w of wire) {
      all.set(w, at);
      at += w.length;
    }
    const events = frames(new Framer(), split(all, cuts));
    assert.deepEqual(events, wire.map((bytes) => ({ type: 'frame', bytes })));
  }), { numRuns: RUNS });
});

test('chunk boundaries never change the events, also with sync literals and limits hit', () => {
  const piece = fc.oneof(
    fc.constantFrom('a NOOP\r\n', 'b LOGIN {3}\r\nabc {2}\r\nxy\r\n', 'c APPEND x {30}\r\n', 'd APPEND y {5+}\r\n12345\r\n',
      'e X {12+}\r\n0123456789\r\n\r\n', 'DONE\n', '\r\n', 'f ~{2}\r\n\0\0\r\n', `g ${'x'.repeat(70)}\r\n`),
    fc.string({ maxLength: 20 }),
  );
  fc.assert(fc.property(fc.array(piece, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (pieces, cuts) => {
    const data = new TextEncoder().encode(pieces.join(''));
    const limits = withLimits({ maxLiteralSize: 10, maxNonSyncLiteral: 10, maxLineLength: 64, maxDiscardLiteral: 20 });
    const whole = frames(new Framer(limits), [data]);
    const chunked = frames(new Framer(limits), split(data, cuts));
    assert.deepEqual(chunked, whole);
  }), { numRuns: RUNS });
});

test('framer and parser never throw and always terminate on arbitrary bytes', () => {
  const limits = withLimits({ maxLiteralSize: 50, maxNonSyncLiteral: 20, maxLineLength: 200, maxDiscardLiteral: 100 });
  const noisy = fc.array(fc.oneof(
    fc.uint8Array({ maxLength: 30 }),
    fc.constantFrom('{', '}', '{5}\r\n', '{3+}\r\n', '~{2}\r\n', '\r\n', '\n', '(', ')', '"', '\\', ' ', 'a UID FETCH ', 'SEARCH ', 'BODY[')
      .map((s) => new TextEncoder().encode(s)),
  ), { maxLength: 30 });
  fc.assert(fc.property(noisy, (chunks) => {
    const framer = new Framer(limits);
    for (const ev of frames(framer, chunks)) {
      if (ev.type === 'frame') {
        assert.ok(ev.bytes.length <= 200 + 50 * 10);
        const r = parseCommand(ev.bytes);
        assert.equal(typeof r.ok, 'boolean');
        if (!r.ok) assert.doesNotMatch(r.text, /[\r\n]/);
      }
    }
  }), { numRuns: RUNS });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
    const r = parseCommand(b);
    assert.equal(typeof r.ok, 'boolean');
  }), { numRuns: RUNS });
});

test('encoder strings read back as the same string (quoted or literal)', () => {
  fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 1200 }).map((s) => s.replace(/\0/g, '')), fc.boolean(), (s, utf8) => {
    const wire = encodeResponse({ type: 'untagged', data: [{ atom: 'X' }, s] }, { utf8 });
    const r = new Reader(wire);
    r.pos = 4; // after "* X "
    assert.equal(r.string('value'), s);
    r.end();
  }), { numRuns: RUNS });
});

test('status text never breaks the line', () => {
  fc.assert(fc.property(fc.string(), tag, (text, t) => {
    const out = new TextDecoder().decode(encodeResponse({ type: 'tagged', tag: t, status: 'NO', text }));
    assert.equal(out.indexOf('\n'), out.length - 1);
    assert.equal(out.indexOf('\r'), out.length - 2);
  }), { numRuns: RUNS });
});
