/**
 * FETCH data items (RFC 9051 §6.4.5 and §9 `fetch-att`, RFC 3516 BINARY, RFC 7162 MODSEQ, RFC 8474 EMAILID /
 * THREADID, RFC 8970 PREVIEW, RFC 8514 SAVEDATE) and FETCH modifiers (RFC 7162 CHANGEDSINCE / VANISHED).
 */
import type { Reader } from './reader.ts';
import type { FetchItem, PartialSpec, Section } from './types.ts';

/** RFC 9051 §6.4.5 macros. */
const MACROS: Record<string, FetchItem[]> = {
  ALL: [{ type: 'FLAGS' }, { type: 'INTERNALDATE' }, { type: 'RFC822.SIZE' }, { type: 'ENVELOPE' }],
  FAST: [{ type: 'FLAGS' }, { type: 'INTERNALDATE' }, { type: 'RFC822.SIZE' }],
  FULL: [
    { type: 'FLAGS' }, { type: 'INTERNALDATE' }, { type: 'RFC822.SIZE' }, { type: 'ENVELOPE' },
    { type: 'BODYSTRUCTURE', extended: false },
  ],
};

const isItemChar = (c: number) =>
  (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2e;

/** `"ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att *(SP fetch-att) ")"`. */
export function fetchItems(r: Reader): FetchItem[] {
  if (r.peek() === 0x28) {
    r.open('fetch items');
    const items = [fetchItem(r)];
    while (r.more()) {
      r.sp('fetch item');
      items.push(fetchItem(r));
    }
    r.close('fetch items');
    return items;
  }
  const start = r.pos;
  const name = r.run(isItemChar).toUpperCase();
  const macro = MACROS[name];
  if (macro && r.peek() !== 0x5b) return macro.map((i) => ({ ...i }));
  r.pos = start;
  return [fetchItem(r)];
}

function fetchItem(r: Reader): FetchItem {
  const name = r.run(isItemChar).toUpperCase();
  if (name === '') r.fail(r.atEnd() ? 'Missing fetch item' : `Invalid fetch item at: ${r.preview()}`);
  switch (name) {
    case 'FLAGS':
    case 'UID':
    case 'INTERNALDATE':
    case 'RFC822.SIZE':
    case 'ENVELOPE':
    case 'MODSEQ':
    case 'EMAILID':
    case 'THREADID':
    case 'SAVEDATE':
    case 'RFC822':
    case 'RFC822.HEADER':
    case 'RFC822.TEXT':
      return { type: name };
    case 'BODYSTRUCTURE':
      return { type: 'BODYSTRUCTURE', extended: true };
    case 'BODY':
    case 'BODY.PEEK': {
      const peek = name === 'BODY.PEEK';
      if (r.peek() !== 0x5b) {
        if (peek) r.fail('BODY.PEEK needs a section, e.g. BODY.PEEK[]');
        return { type: 'BODYSTRUCTURE', extended: false };
      }
      const section = bodySection(r);
      const partial = partialSpec(r);
      return partial ? { type: 'BODY', peek, section, partial } : { type: 'BODY', peek, section };
    }
    case 'BINARY':
    case 'BINARY.PEEK':
    case 'BINARY.SIZE': {
      const part = binarySection(r, name);
      if (name === 'BINARY.SIZE') return { type: 'BINARY.SIZE', part };
      const partial = partialSpec(r);
      const peek = name === 'BINARY.PEEK';
      return partial ? { type: 'BINARY', peek, part, partial } : { type: 'BINARY', peek, part };
    }
    case 'PREVIEW': {
      // RFC 8970 §3: PREVIEW [SP "(" preview-mod *(SP preview-mod) ")"], preview-mod = "LAZY".
      if (r.peek() === 0x20 && r.peek(1) === 0x28) {
        const save = r.pos;
        r.pos++;
        r.open('PREVIEW modifiers');
        const mod = r.atom('PREVIEW modifier', true);
        if (mod !== 'LAZY') {
          r.pos = save;
          r.fail(`Unknown PREVIEW modifier ${mod}`);
        }
        r.close('PREVIEW modifiers');
        return { type: 'PREVIEW', lazy: true };
      }
      return { type: 'PREVIEW', lazy: false };
    }
    default:
      return r.fail(`Unknown fetch item ${name}`);
  }
}

/** Part numbers `1.2.3` (each nz-number), followed by "." or not. */
function partNumbers(r: Reader): number[] {
  const part: number[] = [];
  while (r.peek() !== undefined && r.peek()! >= 0x30 && r.peek()! <= 0x39) {
    part.push(r.nzNumber('body part number'));
    if (r.peek() === 0x2e && r.peek(1)! >= 0x30 && r.peek(1)! <= 0x39) r.pos++;
    else break;
  }
  return part;
}

/** RFC 9051 §9 `section = "[" [section-spec] "]"`. */
export function bodySection(r: Reader): Section {
  r.expect(0x5b, '"["');
  const part = partNumbers(r);
  if (part.length > 0 && !r.eat(0x2e)) {
    r.expect(0x5d, '"]" closing the section');
    return { part };
  }
  if (r.eat(0x5d)) {
    if (part.length > 0) r.fail('Missing section text after "."');
    return { part };
  }
  const text = r.run((c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2e).toUpperCase();
  let section: Section;
  switch (text) {
    case 'HEADER':
    case 'TEXT':
      section = { part, kind: text };
      break;
    case 'MIME':
      if (part.length === 0) r.fail('MIME needs a part number, e.g. BODY[1.MIME]');
      section = { part, kind: 'MIME' };
      break;
    case 'HEADER.FIELDS':
    case 'HEADER.FIELDS.NOT': {
      r.sp('header field list');
      r.open('header field list');
      const fields = [r.astring('header field name')];
      while (r.more()) {
        r.sp('header field name');
        fields.push(r.astring('header field name'));
      }
      r.close('header field list');
      section = { part, kind: text, fields };
      break;
    }
    default:
      return r.fail(`Invalid section ${text || r.preview()}`);
  }
  r.expect(0x5d, '"]" closing the section');
  return section;
}

/** RFC 9051 §9 `section-binary = "[" [section-part] "]"`. */
function binarySection(r: Reader, name: string): number[] {
  if (r.peek() !== 0x5b) r.fail(`${name} needs a section, e.g. ${name}[1]`);
  r.pos++;
  const part = partNumbers(r);
  r.expect(0x5d, `"]" closing the ${name} section (only part numbers are allowed)`);
  return part;
}

/** RFC 9051 §9 `partial = "<" number64 "." nz-number64 ">"`. */
function partialSpec(r: Reader): PartialSpec | undefined {
  if (!r.eat(0x3c)) return undefined;
  const offset = r.number('partial offset', Number.MAX_SAFE_INTEGER);
  r.expect(0x2e, '"." in partial <offset.length>');
  const length = r.nzNumber('partial length', Number.MAX_SAFE_INTEGER);
  r.expect(0x3e, '">" closing the partial');
  return { offset, length };
}
