/**
 * String comparison for SEARCH, SORT and THREAD.
 *
 * RFC 5256 §7 asks for the i;unicode-casemap collation (RFC 5051 §2: each character to its simple titlecase, then
 * NFKD, then compare octets). JS has no titlecase table: upper-casing where it maps one character to one character
 * is the approximation used here (it differs only for a few digraphs such as U+01C6); multi-character upper cases
 * (`ß` -> `SS`) are left as is, as RFC 5051's simple mapping does. SEARCH substring matching (RFC 9051 §6.4.4:
 * case-insensitive at least in the ASCII range) uses the same folding, so `GRÜSSE` and `grüsse` match.
 */

/** Runs of non-ASCII characters (a surrogate pair never straddles a run's edge: both halves are non-ASCII). */
const NON_ASCII_RUNS = /([^\x00-\x7f]+)/;

/**
 * RFC 5051 §2 canonical form (approximated as described above). ASCII runs are upper-cased at once (one character
 * to one, and NFKD leaves ASCII alone); only non-ASCII runs go character by character: message text is mostly
 * ASCII, and this is the hot loop of SEARCH TEXT (issue 8 profile).
 */
export function casemap(s: string): string {
  const parts = s.split(NON_ASCII_RUNS);
  if (parts.length === 1) return s.toUpperCase();
  for (let i = 0; i < parts.length; i++) parts[i] = i % 2 === 0 ? parts[i]!.toUpperCase() : foldEach(parts[i]!);
  return parts.join('').normalize('NFKD');
}

function foldEach(s: string): string {
  let out = '';
  for (const ch of s) {
    const up = ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out;
}

/** RFC 9051 §6.4.4: the needle (already casemapped) is a substring of the text (casemapped here). */
export function containsFolded(text: string, foldedNeedle: string): boolean {
  return foldedNeedle === '' || casemap(text).includes(foldedNeedle);
}

/** Code-point order of two casemapped strings (= UTF-8 octet order, RFC 5051 §2); the empty string first. */
export function compareFolded(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done) return y.done ? 0 : -1;
    if (y.done) return 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
}
