/**
 * Properties: parseStructure and extractSection never throw, on arbitrary octets and on generated MIME-shaped
 * input, and every part's offsets lie inside its parent (so every section is a slice of the raw message).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseStructure, type MimePart } from '../../src/backend/mime/structure.ts';
import { extractSection, applyPartial, headerFieldsFromRaw, type SectionKind } from '../../src/backend/mime/sections.ts';

const enc = new TextEncoder();
const RUNS = process.env.FULL ? 5000 : 400;

/** Checks offset sanity of a part and its descendants within [lo, hi). */
function checkOffsets(p: MimePart, lo: number, hi: number): void {
  assert.ok(lo <= p.headerStart && p.headerStart <= p.headerEnd && p.headerEnd === p.bodyStart, 'header order');
  assert.ok(p.bodyStart <= p.bodyEnd && p.bodyEnd <= hi, 'body inside parent');
  for (const f of p.fields) assert.ok(p.headerStart <= f.start && f.start < f.valueStart && f.valueStart <= f.end && f.end <= p.headerEnd);
  let prev = p.bodyStart;
  for (const c of p.children) {
    assert.ok(c.headerStart >= prev, 'children in order, not overlapping');
    checkOffsets(c, p.bodyStart, p.bodyEnd);
    prev = c.bodyEnd;
  }
  if (p.message) {
    assert.equal(p.message.headerStart, p.bodyStart);
    checkOffsets(p.message, p.bodyStart, p.bodyEnd);
  }
}

const kinds: Array<SectionKind | undefined> = [undefined, 'HEADER', 'HEADER.FIELDS', 'HEADER.FIELDS.NOT', 'TEXT', 'MIME'];
const sectionArb = fc.record({
  part: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 5 }),
  kind: fc.constantFrom(...kinds),
  fields: fc.array(fc.constantFrom('subject', 'FROM', 'content-type', 'x'), { maxLength: 3 }),
});

function exercise(raw: Uint8Array, sections: Array<{ part: number[]; kind: SectionKind | undefined; fields: string[] }>): void {
  const root = parseStructure(raw);
  checkOffsets(root, 0, raw.length);
  assert.equal(root.headerStart, 0);
  assert.equal(root.bodyEnd, raw.length);
  for (const s of sections) {
    const spec = s.kind === undefined ? { part: s.part } : { part: s.part, kind: s.kind, fields: s.fields };
    const out = extractSection(raw, root, spec);
    if (out) applyPartial(out, 1, 3);
  }
  headerFieldsFromRaw(raw, ['subject']);
}

test('never throws on arbitrary bytes', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), fc.array(sectionArb, { maxLength: 6 }), (raw, secs) => exercise(raw, secs)), { numRuns: RUNS });
});

/** MIME-shaped fragments so the generator reaches boundaries, nested types and folded headers. */
const fragment = fc.constantFrom(
  'Content-Type: multipart/mixed; boundary=a\r\n', 'Content-Type: multipart/digest; boundary="b"\n',
  'Content-Type: message/rfc822\r\n', 'Content-Type: message/global\n', 'Content-Type: text/plain; name*0*=utf-8\'\'%E2; name*1=x\r\n',
  'Content-Transfer-Encoding: base64\r\n', 'Subject: hi\r\n', ' folded\r\n', '\r\n', '\n', '--a\r\n', '--a--\r\n', '--b\n', '--b--',
  '--a', 'text line\r\n', 'x:\n', ':\r\n', '\r', 'Content-Type: multipart/alternative; boundary=\r\n',
);

test('never throws on MIME-shaped input; offsets always nest', () => {
  fc.assert(
    fc.property(fc.array(fragment, { maxLength: 60 }), fc.array(sectionArb, { maxLength: 8 }), (frags, secs) =>
      exercise(enc.encode(frags.join('')), secs)),
    { numRuns: RUNS * 2 },
  );
});
