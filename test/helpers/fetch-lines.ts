/** Reading untagged FETCH responses (RFC 9051 §7.5.2) out of a command's response lines, for tests. */

/** The `* n FETCH` lines among the lines. */
export const fetches = (lines: string[]): string[] => lines.filter((l) => /^\* \d+ FETCH /.test(l));

/** seq -> MODSEQ (RFC 7162 §3.1.4.1) of the FETCH responses among the lines (one line per response). */
export function modseqs(lines: string[]): Map<number, number> {
  return new Map(lines.flatMap((l) => {
    const m = /^\* (\d+) FETCH \(.*MODSEQ \((\d+)\)/.exec(l);
    return m ? [[Number(m[1]), Number(m[2])] as const] : [];
  }));
}
