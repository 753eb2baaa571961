/**
 * Comparison of two servers' answers as value trees, and the expectations that allow a difference.
 * - Strings: quoted vs literal is an encoding choice (RFC 9051 §4.3): both compare as their octets; an atom compares
 *   equal to a string of the same octets (a number is an atom; `"7BIT"` vs `7BIT` is the server's choice).
 * - Case-insensitive where the RFC says so: BODYSTRUCTURE type/subtype, parameter names, transfer encoding,
 *   disposition type and language tags (RFC 2045 §5.1, §6.1; RFC 2183 §2; RFC 3282 §2).
 * - An item's value is its FETCH data, or `NO [CODE]`-style text when the command failed.
 */
import { show, type Value } from '../helpers/imap-values.ts';

/** Canonical value: null, a string (atom or octets as latin1), or a list. */
export type Canon = string | null | Canon[];

export function canon(v: Value): Canon {
  if (v === null) return null;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
  if (Array.isArray(v)) return v.map(canon);
  return v;
}

const upper = (c: Canon): Canon => (typeof c === 'string' ? c.toUpperCase() : Array.isArray(c) ? c.map(upper) : c);

/** Parameter list `(name value ...)`: names case-insensitive (RFC 2045 §5.1), and charset values (RFC 2046 §4.1.2). */
function params(c: Canon): Canon {
  return Array.isArray(c) ? c.map((x, i) => (i % 2 === 0 || String(c[i - 1]).toUpperCase() === 'CHARSET' ? upper(x) : x)) : c;
}

/** Extension data from `i`: md5/params (skipped), disposition `(type params)`, language. */
function ext(list: Canon[], i: number, multipart: boolean): void {
  if (multipart && i < list.length) list[i] = params(list[i]!);
  const d = multipart ? i + 1 : i + 1;
  if (Array.isArray(list[d])) list[d] = [upper(list[d][0]!), params(list[d][1] ?? null), ...list[d].slice(2)];
  if (d + 1 < list.length) list[d + 1] = upper(list[d + 1]!);
}

/** BODY / BODYSTRUCTURE with the case-insensitive fields upper-cased (RFC 9051 §7.5.2 body grammar). */
export function canonBody(c: Canon): Canon {
  if (!Array.isArray(c)) return c;
  const l = [...c];
  if (Array.isArray(l[0])) { // multipart: parts..., subtype, [params, disposition, language, location]
    let i = 0;
    while (Array.isArray(l[i])) { l[i] = canonBody(l[i]!); i++; }
    l[i] = upper(l[i] ?? null);
    ext(l, i + 1, true);
    return l;
  }
  l[0] = upper(l[0] ?? null); l[1] = upper(l[1] ?? null); l[2] = params(l[2] ?? null); l[5] = upper(l[5] ?? null);
  const type = `${l[0]}/${l[1]}`;
  const message = type === 'MESSAGE/RFC822' || type === 'MESSAGE/GLOBAL';
  if (message) l[8] = canonBody(l[8] ?? null);
  ext(l, message ? 10 : l[0] === 'TEXT' ? 8 : 7, false);
  return l;
}

/** Line-end equivalence for bare-LF messages: every LF not after CR becomes CRLF. */
function crlf(c: Canon): Canon {
  if (typeof c === 'string') return c.replace(/\r?\n/g, '\r\n');
  return Array.isArray(c) ? c.map(crlf) : c;
}

/**
 * Equal, or equal under bare-LF line-end equivalence (RFC 5322 §2.1 vs stored bytes): strings after LF -> CRLF,
 * numbers where Dovecot's may exceed ours by at most the message's count of bare LFs (each one became CRLF).
 */
export function equalCrlf(d: Canon, g: Canon, bareLf: number): boolean {
  if (typeof d === 'string' && typeof g === 'string') {
    if (/^\d+$/.test(d) && /^\d+$/.test(g)) { const x = Number(d) - Number(g); return x >= 0 && x <= bareLf; }
    return crlf(d) === crlf(g);
  }
  if (Array.isArray(d) && Array.isArray(g)) return d.length === g.length && d.every((x, i) => equalCrlf(x, g[i]!, bareLf));
  return d === g;
}

export const same = (a: Canon, b: Canon): boolean => JSON.stringify(a) === JSON.stringify(b);

export function showCanon(c: Canon): string {
  if (c === null) return 'NIL';
  if (Array.isArray(c)) return `(${c.map(showCanon).join(' ')})`;
  return /^[\x21-\x7e]+$/.test(c) && !/[()"\\]/.test(c) ? c : JSON.stringify(c);
}

export { show };

/**
 * One allowed difference (test/differential/expectations-dovecot.json). `message` is a file name or a glob (`*`);
 * `item` an item type (`BODYSTRUCTURE`, `BODY[n]`, `SEARCH FROM "x"`...) or a glob. Either `compare: "crlf"` (the
 * two values are equal under bare-LF line-end equivalence; only for messages with bare LFs) or `dovecot`/`gateway`
 * regular expressions that the two values (as shown) must match. `rfc` cites the section that allows it. An entry
 * with `bug` allows nothing: it records a known bug of ours (or of Dovecot's) so the suite stays green while the
 * difference is tracked in docs/differential.md; such differences are counted apart from the allowed ones.
 */
export interface Expectation {
  message: string;
  item: string;
  compare?: 'crlf';
  /** Only for messages without a Date: header field, or only for messages with bare LFs. */
  when?: 'no-date' | 'bare-lf';
  /** Not an allowance: a known bug or an untriaged difference, described in docs/differential.md (this anchor). */
  bug?: string;
  dovecot?: string;
  gateway?: string;
  rfc: string;
  why: string;
}

const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

export interface Difference { message: string; item: string; type: string; dovecot: Canon; gateway: Canon }

/** What an expectation may depend on besides the two values. */
export interface MessageFacts { bareLf: number; hasDate: boolean }

/** The expectation that covers this difference, or undefined (an unexpected difference: the suite fails). */
export function allowedBy(x: Difference, facts: MessageFacts, table: Expectation[]): Expectation | undefined {
  const { bareLf } = facts;
  return table.find((e) => {
    if (!glob(e.message).test(x.message) || !(glob(e.item).test(x.item) || glob(e.item).test(x.type))) return false;
    if (e.when === 'no-date' && facts.hasDate) return false;
    if (e.when === 'bare-lf' && bareLf === 0) return false;
    if (e.compare === 'crlf') return bareLf > 0 && equalCrlf(x.dovecot, x.gateway, bareLf);
    return (e.dovecot === undefined || new RegExp(e.dovecot, 's').test(showCanon(x.dovecot)))
      && (e.gateway === undefined || new RegExp(e.gateway, 's').test(showCanon(x.gateway)));
  });
}

/** Item type for the match-rate table: part numbers become `n` (`BODY[1.2.MIME]` -> `BODY[n.MIME]`). */
export const itemType = (item: string): string => item.replace(/\[(\d+(\.\d+)*)/, '[n').replace(/^SEARCH .*/, 'SEARCH');

/**
 * Part numbers of a BODYSTRUCTURE (RFC 9051 §6.4.5 BODY[section]): multipart children are 1..n; the body of a
 * message/rfc822 part p is p.1.. (its own parts when multipart, else p.1); a non-multipart message is part 1.
 */
export function partNumbers(bs: Canon): Array<{ part: string; leaf: boolean; message: boolean }> {
  const out: Array<{ part: string; leaf: boolean; message: boolean }> = [];
  const walk = (b: Canon, prefix: string) => {
    if (!Array.isArray(b)) return;
    if (Array.isArray(b[0])) {
      const children = b.slice(0, Math.max(0, b.findIndex((x) => !Array.isArray(x)))); // then subtype and extension data
      children.forEach((child, i) => {
        if (!Array.isArray(child)) return;
        const p = `${prefix}${i + 1}`;
        const multi = Array.isArray(child[0]);
        const msg = !multi && /^MESSAGE\/(RFC822|GLOBAL)$/i.test(`${child[0]}/${child[1]}`);
        out.push({ part: p, leaf: !multi, message: msg });
        if (multi) walk(child, `${p}.`);
        else if (msg) inner(child[8] ?? null, p);
      });
    } else {
      const msg = /^MESSAGE\/(RFC822|GLOBAL)$/i.test(`${b[0]}/${b[1]}`);
      out.push({ part: `${prefix}1`, leaf: true, message: msg });
      if (msg) inner(b[8] ?? null, `${prefix}1`);
    }
  };
  /** The body inside message part p: its parts are p.1.. */
  const inner = (b: Canon, p: string) => {
    if (!Array.isArray(b)) return;
    if (Array.isArray(b[0])) walk(b, `${p}.`);
    else {
      const msg = /^MESSAGE\/(RFC822|GLOBAL)$/i.test(`${b[0]}/${b[1]}`);
      out.push({ part: `${p}.1`, leaf: true, message: msg });
      if (msg) inner(b[8] ?? null, `${p}.1`);
    }
  };
  walk(bs, '');
  return out;
}
