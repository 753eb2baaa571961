/**
 * RFC 5256 §3 THREAD algorithms, exactly as specified: ORDEREDSUBJECT ("poor man's threading") and REFERENCES
 * (steps 1-6: parent/child links from References / In-Reply-To, dummy pruning, subject merging, date sorting).
 * Message ids are normalized (RFC 5256 §3: quoting removed) and compared case-sensitively. Output nodes carry the
 * number to report (sequence number or UID); `id: null` is a dummy (RFC 5256 §4: a thread with no common root).
 */
import type { ThreadNode } from '../../protocol/types.ts';
import type { MessageData } from './evaluate.ts';
import { sentTime, sortSubject } from './sort-keys.ts';
import { baseSubject } from './subject.ts';
import { headerText } from './decode.ts';

type NumberOf = (m: MessageData) => number;

/** Messages in (sent date, sequence number) order (RFC 5256 §2.2 tie-breaker). */
function byDate(a: { t: number; seq: number }, b: { t: number; seq: number }): number {
  return a.t - b.t || a.seq - b.seq;
}

/** RFC 5256 §3 ORDEREDSUBJECT. */
export function orderedSubject(list: MessageData[], num: NumberOf): ThreadNode[] {
  const items = list.map((m) => ({ m, subject: sortSubject(m), t: sentTime(m), seq: m.seq }));
  items.sort((a, b) => (a.subject < b.subject ? -1 : a.subject > b.subject ? 1 : byDate(a, b)));
  const threads: Array<{ t: number; seq: number; node: ThreadNode }> = [];
  for (let i = 0; i < items.length;) {
    let j = i + 1;
    while (j < items.length && items[j]!.subject === items[i]!.subject) j++;
    const root = items[i]!;
    const children = items.slice(i + 1, j).map((x): ThreadNode => ({ id: num(x.m), children: [] }));
    threads.push({ t: root.t, seq: root.seq, node: { id: num(root.m), children } });
    i = j;
  }
  return threads.sort(byDate).map((x) => x.node);
}

/** RFC 5322 §3.6.4 msg-ids in a header value, normalized (quotes, escapes, white space and comments removed). */
export function messageIds(value: string | undefined): string[] {
  if (!value) return [];
  const out: string[] = [];
  for (const m of value.replace(/\([^()]*\)/g, '').matchAll(/<([^<>]*)>/g)) {
    const id = m[1]!.replace(/\\(.)/g, '$1').replace(/["\s]/g, '');
    if (/^[^@]+@[^@]+$/.test(id)) out.push(id);
  }
  return out;
}

interface Container {
  msg: MessageData | null;
  parent: Container | null;
  children: Container[];
  /** Sort time and tie-breaker (a dummy's are its first child's, set in step 6). */
  t: number;
  seq: number;
  reply: boolean;
}

function container(msg: MessageData | null): Container {
  return { msg, parent: null, children: [], t: 0, seq: 0, reply: false };
}

/** True when `a` is `b` or one of its descendants. */
function within(a: Container, b: Container): boolean {
  for (let x: Container | null = a; x; x = x.parent) if (x === b) return true;
  return false;
}

function unlink(c: Container): void {
  if (!c.parent) return;
  c.parent.children = c.parent.children.filter((x) => x !== c);
  c.parent = null;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

/** RFC 5256 §3 REFERENCES. `list` in sequence order. */
export function references(list: MessageData[], num: NumberOf): ThreadNode[] {
  const table = new Map<string, Container>();
  const all: Container[] = [];
  const get = (id: string): Container => {
    let c = table.get(id);
    if (!c) { c = container(null); table.set(id, c); all.push(c); }
    return c;
  };
  // (1) links from each message's references, then to the message itself.
  for (const m of list) {
    const own = messageIds(m.headers?.get('message-id')?.[0])[0];
    let c: Container;
    if (own !== undefined && !table.get(own)?.msg) {
      c = get(own);
    } else {
      c = container(null); // no valid Message-ID, or a duplicate of an earlier message's: a unique id
      all.push(c);
    }
    c.msg = m;
    let refs = messageIds(m.headers?.get('references')?.[0]);
    if (refs.length === 0) refs = messageIds(m.headers?.get('in-reply-to')?.[0]).slice(0, 1);
    for (let i = 0; i + 1 < refs.length; i++) {
      const p = get(refs[i]!);
      const ch = get(refs[i + 1]!);
      if (!ch.parent && !within(p, ch)) link(p, ch); // (1A) keep existing links; never make a loop
    }
    unlink(c); // (1B) a parent from a truncated References gives way to this message's own last reference
    const last = refs.length > 0 ? get(refs[refs.length - 1]!) : null;
    if (last && !within(last, c)) link(last, c);
  }
  // (2) the root set.
  let roots = prune(all.filter((c) => !c.parent), true);
  // (4) sort the root set by sent date (a dummy by its first child after sorting the children).
  for (const c of all) if (c.msg) { c.t = sentTime(c.msg); c.seq = c.msg.seq; c.reply = baseSubject(headerText(c.msg.headers?.get('subject')?.[0] ?? '')).replyOrForward; }
  for (const r of roots) datesOf(r, false);
  roots.sort(byDate);
  roots = mergeBySubject(roots);
  // (6) sort every set of siblings, the youngest generation first.
  for (const r of roots) datesOf(r, true);
  roots.sort(byDate);
  return roots.map((r) => toNode(r, num));
}

/** (3) Dummies: without children deleted; with children replaced by them, except at the root with several. */
function prune(list: Container[], atRoot: boolean): Container[] {
  const out: Container[] = [];
  for (const c of list) {
    c.children = prune(c.children, false);
    for (const ch of c.children) ch.parent = c;
    if (c.msg) { out.push(c); continue; }
    if (c.children.length === 0) continue;
    if (!atRoot || c.children.length === 1) {
      for (const ch of c.children) { ch.parent = atRoot ? null : c.parent; out.push(ch); }
    } else {
      out.push(c);
    }
  }
  return out;
}

/** Sorts the children (recursively when `deep`) and gives a dummy the date of its first child. */
function datesOf(c: Container, deep: boolean): void {
  if (deep) for (const ch of c.children) datesOf(ch, true);
  if (deep || !c.msg) c.children.sort(byDate);
  if (!c.msg && c.children[0]) { c.t = c.children[0].t; c.seq = c.children[0].seq; }
}

function threadSubject(c: Container): string {
  const m = c.msg ?? c.children[0]?.msg ?? null;
  return m ? sortSubject(m) : '';
}

/** (5) Threads under the root with the same base subject are merged. */
function mergeBySubject(roots: Container[]): Container[] {
  const subjects = new Map<string, Container>();
  for (const c of roots) { // (5B)
    const s = threadSubject(c);
    if (s === '') continue;
    const t = subjects.get(s);
    if (!t) subjects.set(s, c);
    else if (t.msg && (!c.msg || (t.reply && !c.reply))) subjects.set(s, c);
  }
  let out = [...roots];
  for (const c of roots) { // (5C)
    const s = threadSubject(c);
    if (s === '') continue;
    const t = subjects.get(s)!;
    if (t === c) continue;
    out = out.filter((x) => x !== c);
    if (!t.msg && !c.msg) {
      for (const ch of c.children) link(t, ch);
    } else if (!t.msg || (c.reply && !t.reply)) {
      link(t, c);
    } else {
      const d = container(null);
      out[out.indexOf(t)] = d;
      link(d, t);
      link(d, c);
      subjects.set(s, d);
    }
  }
  return out;
}

function toNode(c: Container, num: NumberOf): ThreadNode {
  return { id: c.msg ? num(c.msg) : null, children: c.children.map((ch) => toNode(ch, num)) };
}
