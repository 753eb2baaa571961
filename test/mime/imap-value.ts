/**
 * Test helper: reads IMAP response values (RFC 9051 §9: NIL, number, quoted string, literal / literal8,
 * parenthesized list, atom) into a plain tree, so answers can be compared by meaning (a string sent quoted by
 * one server and as a literal by another reads the same). Strings are latin1 (one char per octet).
 */
export type Tree = null | number | string | { atom: string } | Tree[];

export function readValues(text: string): Tree[] {
  return readFrom(text, 0).values;
}

/** Reads values from `start` up to the end of the text or of the line (a CRLF outside any value). */
function readFrom(text: string, start: number): { values: Tree[]; end: number } {
  let i = start;
  const ws = () => { while (text[i] === ' ') i++; };
  const one = (): Tree => {
    ws();
    const c = text[i];
    if (c === '(') {
      i++;
      const list: Tree[] = [];
      for (ws(); text[i] !== ')'; ws()) {
        if (i >= text.length) throw new Error('unclosed list');
        list.push(one());
      }
      i++;
      return list;
    }
    if (c === '"') {
      let s = '';
      for (i++; text[i] !== '"'; i++) {
        if (i >= text.length) throw new Error('unclosed string');
        if (text[i] === '\\') i++;
        s += text[i];
      }
      i++;
      return s;
    }
    const lit = /^~?\{(\d+)\}\r\n/.exec(text.slice(i));
    if (lit) {
      i += lit[0].length;
      const s = text.slice(i, i + Number(lit[1]));
      i += Number(lit[1]);
      return s;
    }
    const atom = /^[^\s()"]+(?:\[[^\]]*\](?:<\d+>)?)?/.exec(text.slice(i));
    if (!atom) throw new Error(`unexpected ${text.slice(i, i + 20)}`);
    i += atom[0].length;
    if (atom[0] === 'NIL') return null;
    if (/^\d+$/.test(atom[0])) return Number(atom[0]);
    return { atom: atom[0] };
  };
  const out: Tree[] = [];
  for (ws(); i < text.length && !text.startsWith('\r\n', i); ws()) out.push(one());
  return { values: out, end: i };
}

/** Every `* n FETCH (...)` response in a received text (lines joined with CRLF), in order. */
export function fetchResponses(text: string): Array<{ seq: number; items: Map<string, Tree> }> {
  const out: Array<{ seq: number; items: Map<string, Tree> }> = [];
  const re = /\* (\d+) FETCH /g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const { values, end } = readFrom(text, m.index + m[0].length);
    const list = values[0] as Tree[];
    const items = new Map<string, Tree>();
    for (let k = 0; k < list.length; k += 2) items.set((list[k] as { atom: string }).atom, list[k + 1]!);
    out.push({ seq: Number(m[1]), items });
    re.lastIndex = end;
  }
  return out;
}

/** The items of one `* n FETCH (...)` response (encoded bytes or latin1 text) as a name -> value map. */
export function fetchItems(response: Uint8Array | string): Map<string, Tree> {
  const text = typeof response === 'string' ? response : Array.from(response, (b) => String.fromCharCode(b)).join('');
  const m = /^\* \d+ FETCH /.exec(text);
  const body = m ? text.slice(m[0].length).replace(/\r\n$/, '') : text;
  const [list] = readValues(body) as [Tree[]];
  const out = new Map<string, Tree>();
  for (let k = 0; k < list.length; k += 2) out.set((list[k] as { atom: string }).atom, list[k + 1]!);
  return out;
}
