/**
 * Three-valued evaluation of a SEARCH key tree (RFC 9051 §6.4.4) over what is known of one message so far.
 *
 * A message's data is loaded in tiers, cheapest first: nothing (sequence numbers, UIDs, `$`, the gateway-kept
 * `\Deleted`), then JMAP metadata (keywords, size, receivedAt: one `Email/get` for all), then header fields
 * (`Email/get` of raw header values), then the raw message (BODY / TEXT, or headers with 8-bit octets). A key whose
 * data is not loaded yet is `undefined` (unknown); AND/OR/NOT follow Kleene's logic, so a message is decided as
 * soon as its known keys decide it, and the next tier is loaded only for undecided messages. Flag-, size-, date- and
 * UID-only searches therefore never download a message.
 */
import type { EmailMeta } from '../../backend/backend.ts';
import type { EmailOrigin } from '../../uidmap/store.ts';
import { ImapError } from '../../protocol/errors.ts';
import type { SearchKey, SequenceSet } from '../../protocol/types.ts';
import { flagToKeyword } from '../flags.ts';
import { casemap, containsFolded } from './casemap.ts';
import { compareDay, internalDay, parseSentDate } from './dates.ts';
import { headerText } from './decode.ts';
import type { SearchText } from './message-text.ts';

/** What is known of one message. `headers` maps lower-cased field names to raw values
 * (after the colon, folding kept; decoded on use), in message order. */
export interface MessageData {
  seq: number;
  uid: number;
  emailId: string;
  meta?: EmailMeta;
  /** The keywords alone (RFC 8621 §4.1.1), loaded instead of `meta` when the key tree reads no other metadata. */
  keywords?: readonly string[];
  /** RFC 8474 §5.1: the ids a copy re-imported by COPY keeps from its source (../objectid.ts), loaded with `meta`. */
  origin?: EmailOrigin;
  headers?: Map<string, string[]>;
  text?: SearchText;
}

/** Facts of the view every evaluation needs. */
export interface EvalContext {
  /** EXISTS: the value of `*` for sequence numbers. */
  exists: number;
  /** Highest UID in the view: the value of `*` for UIDs. */
  maxUid: number;
  /** UIDs with the gateway-kept `\Deleted` (DESIGN.md rule 6). */
  deleted: Set<number>;
  /** RFC 5182 saved result (`$`), as UIDs. */
  saved: Set<number>;
  /** Evaluation time, for RFC 5032 OLDER / YOUNGER. */
  now: number;
  /** RFC 7162 §3.1.5: a message's mod-sequence (MODSEQ key); absent, MODSEQ matches nothing. */
  modseqOf?: (uid: number) => number;
  /**
   * Index mode (session/policy.ts `searchText`): the email ids the store's `Email/query` text/body filter returned
   * per BODY/TEXT key (`textIndexKey`); BODY and TEXT are then answered from it, fuzzy (RFC 8621 §4.4.1).
   */
  textIndex?: Map<string, Set<string>>;
}

/** The `EvalContext.textIndex` key of a (prepared) BODY or TEXT search key. */
export function textIndexKey(type: 'BODY' | 'TEXT', value: string): string {
  return `${type}\0${value}`;
}

/** Data tier a key needs (see the module comment). */
export type Tier = 0 | 1 | 2 | 3;

/** The search key with its string arguments casemapped once (RFC 9051 §6.4.4 case-insensitive matching). */
export function prepare(keys: SearchKey[]): SearchKey {
  const fold = (k: SearchKey): SearchKey => {
    switch (k.type) {
      case 'HEADER': return { ...k, value: casemap(k.value) };
      case 'BODY': case 'TEXT': return { ...k, value: casemap(k.value) };
      case 'NOT': return { type: 'NOT', key: fold(k.key) };
      case 'OR': return { type: 'OR', left: fold(k.left), right: fold(k.right) };
      case 'AND': return { type: 'AND', keys: k.keys.map(fold) };
      case 'SAVEDATESUPPORTED': throw ImapError.bad('SAVEDATE is not supported by this server');
      case 'DATE':
        if (k.field === 'SAVED') throw ImapError.bad('SAVEDATE is not supported by this server');
        return k;
      default: return k;
    }
  };
  return keys.length === 1 ? fold(keys[0]!) : { type: 'AND', keys: keys.map(fold) };
}

/**
 * Header field names (lower case) the key tree reads, the highest tier it needs, and whether its only tier-1 keys
 * are flags (`keywordsOnly`: tier 1 needs the keywords alone, no size, date, blob or thread id).
 */
export function analyze(key: SearchKey, textIndex = false): { tier: Tier; headers: Set<string>; objectIds: boolean; keywordsOnly: boolean } {
  const headers = new Set<string>();
  let tier: Tier = 0;
  let objectIds = false;
  let otherMeta = false;
  const up = (t: Tier, flag = false) => { if (t > tier) tier = t; if (t > 0 && !flag) otherMeta = true; };
  const walk = (k: SearchKey): void => {
    switch (k.type) {
      case 'NOT': walk(k.key); break;
      case 'OR': walk(k.left); walk(k.right); break;
      case 'AND': k.keys.forEach(walk); break;
      case 'FLAG': up(isGatewayFlag(k.flag) ? 0 : 1, true); break;
      case 'HEADER': headers.add(k.field.toLowerCase()); up(2); break;
      case 'DATE':
        if (k.field === 'SENT') { headers.add('date'); up(2); } else up(1);
        break;
      case 'BODY': case 'TEXT': up(textIndex ? 0 : 3); break;
      case 'EMAILID': case 'THREADID': objectIds = true; up(1); break;
      case 'SIZE': case 'OLDER': case 'YOUNGER': up(1); break;
      default: break;
    }
  };
  walk(key);
  return { tier, headers, objectIds, keywordsOnly: (tier as Tier) === 1 && !otherMeta };
}

function isGatewayFlag(flag: string): boolean {
  const f = flag.toLowerCase();
  return f === '\\deleted' || f === '\\recent';
}

function inSet(set: SequenceSet, n: number, star: number, saved: Set<number>, uid: number): boolean {
  if (set === '$') return saved.has(uid);
  for (const r of set) {
    const a = r.from === '*' ? star : r.from;
    const b = r.to === '*' ? star : r.to;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/** true / false, or undefined when the data the answer depends on is not loaded yet. */
export function evaluate(key: SearchKey, m: MessageData, ctx: EvalContext): boolean | undefined {
  switch (key.type) {
    case 'ALL': return true;
    case 'SEQUENCE': return inSet(key.set, m.seq, ctx.exists, ctx.saved, m.uid);
    case 'UID': return inSet(key.set, m.uid, ctx.maxUid, ctx.saved, m.uid);
    case 'NOT': {
      const v = evaluate(key.key, m, ctx);
      return v === undefined ? undefined : !v;
    }
    case 'AND': {
      let unknown = false;
      for (const k of key.keys) {
        const v = evaluate(k, m, ctx);
        if (v === false) return false;
        if (v === undefined) unknown = true;
      }
      return unknown ? undefined : true;
    }
    case 'OR': {
      const l = evaluate(key.left, m, ctx);
      if (l === true) return true;
      const r = evaluate(key.right, m, ctx);
      if (r === true) return true;
      return l === undefined || r === undefined ? undefined : false;
    }
    case 'FLAG': {
      const f = key.flag.toLowerCase();
      if (f === '\\deleted') return ctx.deleted.has(m.uid);
      if (f === '\\recent') return false; // \Recent is not kept (DESIGN.md rule 6): no message is recent
      const keywords = m.meta?.keywords ?? m.keywords;
      if (!keywords) return undefined;
      const kw = flagToKeyword(key.flag);
      return kw !== null && keywords.some((k) => k.toLowerCase() === kw);
    }
    case 'SIZE':
      if (!m.meta) return undefined;
      return key.op === 'LARGER' ? m.meta.size > key.size : m.meta.size < key.size;
    case 'DATE': {
      if (!m.meta) return undefined;
      if (key.field === 'INTERNAL') return compareDay(internalDay(m.meta.receivedAt), key.op, key.date);
      if (!m.headers) return undefined;
      const sent = sentDay(m.headers);
      return compareDay(sent ?? internalDay(m.meta.receivedAt), key.op, key.date);
    }
    case 'OLDER':
    case 'YOUNGER': {
      if (!m.meta) return undefined;
      const age = (ctx.now - Date.parse(m.meta.receivedAt)) / 1000;
      return key.type === 'OLDER' ? age > key.seconds : age <= key.seconds;
    }
    case 'EMAILID': return m.meta ? (m.origin?.emailId ?? m.meta.id) === key.id : undefined;
    case 'THREADID': return m.meta ? (m.origin?.threadId ?? m.meta.threadId) === key.id : undefined;
    case 'HEADER': {
      if (!m.headers) return undefined;
      const values = m.headers.get(key.field.toLowerCase()) ?? [];
      return values.some((v) => containsFolded(headerText(v), key.value));
    }
    case 'BODY':
    case 'TEXT':
      if (ctx.textIndex) return ctx.textIndex.get(textIndexKey(key.type, key.value))?.has(m.emailId) ?? false;
      if (key.type === 'BODY') return m.text ? m.text.body.includes(key.value) : undefined;
      return m.text ? m.text.header.includes(key.value) || m.text.body.includes(key.value) : undefined;
    // RFC 7162 §3.1.5: mod-sequence >= the value. One mod-sequence per message covers every entry name.
    case 'MODSEQ': return ctx.modseqOf ? ctx.modseqOf(m.uid) >= key.modseq : false;
    default: return false; // SAVED* are refused by `prepare`
  }
}

/** The Date: header's own calendar day (RFC 9051 §6.4.4 SENT*), or null when absent or unparsable. */
function sentDay(headers: Map<string, string[]>): string | null {
  const v = headers.get('date')?.[0];
  return v === undefined ? null : parseSentDate(v)?.day ?? null;
}
