/**
 * Email/query (RFC 8621 §4.4, RFC 8620 §5.5): filters (required text conditions narrowed by the trigram index of
 * text-index.ts first), sorting, thread collapsing and paging.
 */
import type { EmailRow } from '../repo.ts';
import { textForm } from '../mime.ts';
import { type Args, type Ctx, type Handler, MethodError, account, invalid, isObj, isIdArray, resolveId } from './context.ts';
import { matchExpression, textIndexReady, TEXT_COLUMNS, type TextColumn } from './text-index.ts';

/** The largest page this server returns; a larger `limit` is answered with this `limit` (RFC 8620 §5.5). */
export const MAX_QUERY_LIMIT = 1000;

interface Item { row: EmailRow; mailboxes: string[]; keywords: Set<string> }
interface Env { ctx: Ctx; accountId: string; threads: Map<string, Item[]> }

/** Splits a search string into phrases and tokens (RFC 8621 §4.4.1: quoted phrases, white space separates tokens). */
export function searchTerms(s: string): string[] {
  const terms: string[] = [];
  const re = /"((?:\\.|[^"\\])*)"|'((?:\\.|[^'\\])*)'|(\S+)/g;
  for (const m of s.matchAll(re)) {
    const t = (m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(.)/g, '$1').normalize('NFC').toLowerCase();
    if (t) terms.push(t);
  }
  return terms;
}
const contains = (hay: string, needle: string) => searchTerms(needle).every((t) => hay.includes(t));

const CONDITIONS = new Set(['inMailbox', 'inMailboxOtherThan', 'before', 'after', 'minSize', 'maxSize',
  'allInThreadHaveKeyword', 'someInThreadHaveKeyword', 'noneInThreadHaveKeyword', 'hasKeyword', 'notKeyword',
  'hasAttachment', 'text', 'from', 'to', 'cc', 'bcc', 'subject', 'body', 'header']);
const utc = (v: unknown, k: string) => {
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v)) throw invalid(`${k} must be a UTCDate`);
  return Date.parse(v);
};
const str = (v: unknown, k: string) => { if (typeof v !== 'string') throw invalid(`${k} must be a string`); return v; };
const uint = (v: unknown, k: string) => { if (!Number.isInteger(v) || (v as number) < 0) throw invalid(`${k} must be an UnsignedInt`); return v as number; };

function matchCondition(item: Item, f: Args, env: Env): boolean {
  const e = item.row;
  for (const [k, v] of Object.entries(f)) {
    if (!CONDITIONS.has(k)) throw new MethodError('unsupportedFilter', { description: `unknown condition ${k}` });
    const thread = () => env.threads.get(e.thread_id) ?? [item];
    const kw = (x: unknown) => str(x, k).toLowerCase();
    let ok: boolean;
    switch (k) {
      case 'inMailbox': ok = item.mailboxes.includes(resolveId(str(v, k), env.ctx)); break;
      case 'inMailboxOtherThan': {
        if (!isIdArray(v)) throw invalid('inMailboxOtherThan must be an array of ids');
        const ex = v.map((x) => resolveId(x, env.ctx));
        ok = item.mailboxes.some((m) => !ex.includes(m)); break;
      }
      case 'before': ok = e.received_at < utc(v, k); break;
      case 'after': ok = e.received_at >= utc(v, k); break;
      case 'minSize': ok = e.size >= uint(v, k); break;
      case 'maxSize': ok = e.size < uint(v, k); break;
      case 'allInThreadHaveKeyword': { const w = kw(v); ok = thread().every((t) => t.keywords.has(w)); break; }
      case 'someInThreadHaveKeyword': { const w = kw(v); ok = thread().some((t) => t.keywords.has(w)); break; }
      case 'noneInThreadHaveKeyword': { const w = kw(v); ok = !thread().some((t) => t.keywords.has(w)); break; }
      case 'hasKeyword': ok = item.keywords.has(kw(v)); break;
      case 'notKeyword': ok = !item.keywords.has(kw(v)); break;
      case 'hasAttachment': if (typeof v !== 'boolean') throw invalid('hasAttachment must be a boolean'); ok = (e.has_attachment === 1) === v; break;
      case 'text': {
        const all = [e.search_from, e.search_to, e.search_cc, e.search_bcc, e.search_subject, e.search_body].join('\n');
        ok = contains(all, str(v, k)); break;
      }
      case 'from': ok = contains(e.search_from, str(v, k)); break;
      case 'to': ok = contains(e.search_to, str(v, k)); break;
      case 'cc': ok = contains(e.search_cc, str(v, k)); break;
      case 'bcc': ok = contains(e.search_bcc, str(v, k)); break;
      case 'subject': ok = contains(e.search_subject, str(v, k)); break;
      case 'body': ok = contains(e.search_body, str(v, k)); break;
      case 'header': {
        if (!isIdArray(v) || v.length < 1 || v.length > 2) throw invalid('header must be [name] or [name, text]');
        const name = v[0]!.toLowerCase();
        const headers = env.ctx.repo.parsedBlob(e.account_id, e.blob_id)?.headers.filter((h) => h.name.toLowerCase() === name) ?? [];
        ok = v.length === 1 ? headers.length > 0 : headers.some((h) => contains(textForm(h.value).toLowerCase(), v[1]!));
        break;
      }
      default: ok = true;
    }
    if (!ok) return false;
  }
  return true;
}

/** FilterOperator AND/OR/NOT over FilterConditions (RFC 8620 §5.5). */
function matches(item: Item, f: unknown, env: Env): boolean {
  if (f === null || f === undefined) return true;
  if (!isObj(f)) throw invalid('filter must be an object');
  if ('operator' in f) {
    const conds = f.conditions;
    if (!Array.isArray(conds)) throw invalid('conditions must be an array');
    switch (f.operator) {
      case 'AND': return conds.every((c) => matches(item, c, env));
      case 'OR': return conds.some((c) => matches(item, c, env));
      case 'NOT': return !conds.some((c) => matches(item, c, env));
      default: throw invalid('operator must be AND, OR or NOT');
    }
  }
  return matchCondition(item, f, env);
}

/** Server-dependent but stable final order: ascending id (numeric part). */
const idOrder = (a: Item, b: Item) => a.row.id.length - b.row.id.length || (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0);

/** Comparator of one sort property (RFC 8621 §4.4.2). */
function comparator(c: unknown, env: Env): (a: Item, b: Item) => number {
  if (!isObj(c) || typeof c.property !== 'string') throw invalid('sort items must be Comparator objects');
  const dir = c.isAscending === false ? -1 : 1;
  const keyword = typeof c.keyword === 'string' ? c.keyword.toLowerCase() : null;
  const needKw = () => { if (keyword === null) throw invalid(`${c.property} sort needs a keyword`); return keyword; };
  let key: (i: Item) => number | string;
  switch (c.property) {
    case 'receivedAt': key = (i) => i.row.received_at; break;
    case 'size': key = (i) => i.row.size; break;
    case 'from': key = (i) => i.row.from_sort; break;
    case 'to': key = (i) => i.row.to_sort; break;
    case 'subject': key = (i) => i.row.subject_sort; break;
    case 'sentAt': key = (i) => i.row.sent_at ?? 0; break;
    case 'hasKeyword': { const k = needKw(); key = (i) => (i.keywords.has(k) ? 1 : 0); break; }
    case 'allInThreadHaveKeyword': { const k = needKw(); key = (i) => ((env.threads.get(i.row.thread_id) ?? [i]).every((t) => t.keywords.has(k)) ? 1 : 0); break; }
    case 'someInThreadHaveKeyword': { const k = needKw(); key = (i) => ((env.threads.get(i.row.thread_id) ?? [i]).some((t) => t.keywords.has(k)) ? 1 : 0); break; }
    default: throw new MethodError('unsupportedSort', { description: `cannot sort by ${c.property}` });
  }
  return (a, b) => { const x = key(a), y = key(b); return x < y ? -dir : x > y ? dir : 0; };
}

/**
 * The listing every IMAP gateway asks for, `{inMailbox: id}` sorted by receivedAt ascending (or unsorted), answered
 * by one indexed SQL query in the same order as the general path (ties by id length, then id): the general path
 * loads every row of the account (search text included) and took ~9 s per page at 100,000 messages.
 */
function mailboxListing(args: Args, ctx: Ctx, accountId: string): string[] | null {
  const f = args.filter;
  const sort = args.sort as unknown[] | null | undefined;
  const byReceived = sort === undefined || sort === null || sort.length === 0 ||
    (sort.length === 1 && isObj(sort[0]) && sort[0].property === 'receivedAt' && sort[0].isAscending !== false &&
      Object.keys(sort[0]).every((k) => k === 'property' || k === 'isAscending'));
  if (!isObj(f) || Object.keys(f).length !== 1 || typeof f.inMailbox !== 'string' || !byReceived || args.collapseThreads === true) return null;
  const order = sort && sort.length ? 'e.received_at, length(e.id), e.id' : 'length(e.id), e.id';
  const rows = ctx.repo.db.prepare(`SELECT e.id FROM email_mailboxes m JOIN emails e ON e.id = m.email_id
    WHERE m.mailbox_id = ? AND e.account_id = ? ORDER BY ${order}`).all(resolveId(f.inMailbox, ctx), accountId) as { id: string }[];
  return rows.map((r) => r.id);
}

/** The search columns each text condition reads (matchCondition: `text` joins them all). */
const TEXT_CONDITION_COLUMNS: Record<string, readonly TextColumn[]> = {
  text: TEXT_COLUMNS, from: ['search_from'], to: ['search_to'], cc: ['search_cc'], bcc: ['search_bcc'],
  subject: ['search_subject'], body: ['search_body'],
};

/**
 * The FTS5 expression every match of `filter` satisfies, from the text conditions it requires (those of a
 * FilterCondition or of AND operators, not under OR / NOT), or null when it requires none the index can use.
 * Thread-keyword conditions and sorts see whole threads, so such queries are left to the full scan.
 */
function requiredText(args: Args): string | null {
  if (JSON.stringify([args.filter ?? null, args.sort ?? null]).includes('InThread')) return null;
  const parts: string[] = [];
  const walk = (f: unknown): void => {
    if (!isObj(f)) return;
    if ('operator' in f) {
      if (f.operator === 'AND' && Array.isArray(f.conditions)) f.conditions.forEach(walk);
      return;
    }
    for (const [k, v] of Object.entries(f)) {
      const columns = TEXT_CONDITION_COLUMNS[k];
      // `text` joins the columns with LF: a term with an LF may match across two of them, which no column holds.
      const usable = columns && typeof v === 'string' && !(k === 'text' && v.includes('\n'));
      const expr = usable ? matchExpression(searchTerms(v), columns) : null;
      if (expr) parts.push(expr);
    }
  };
  walk(args.filter);
  return parts.length > 0 ? parts.join(' AND ') : null;
}

/** Throws what `matches` throws for a malformed operator or an unknown condition name, on no particular email. */
function checkShape(f: unknown): void {
  if (!isObj(f)) throw invalid('filter must be an object');
  if (!('operator' in f)) {
    for (const k of Object.keys(f)) if (!CONDITIONS.has(k)) throw new MethodError('unsupportedFilter', { description: `unknown condition ${k}` });
    return;
  }
  if (!Array.isArray(f.conditions)) throw invalid('conditions must be an array');
  if (f.operator !== 'AND' && f.operator !== 'OR' && f.operator !== 'NOT') throw invalid('operator must be AND, OR or NOT');
  f.conditions.forEach(checkShape);
}

/** Below this many candidates, their mailboxes and keywords are read per email instead of for the whole account. */
const PER_EMAIL_MEMBERSHIP = 1000;

/**
 * The emails the filter can match at all: those the text index finds for its required text conditions
 * (text-index.ts: a superset of the matches, each still checked by `matches`), or every email of the account
 * (no such condition, or the index still being built).
 */
function candidates(args: Args, ctx: Ctx, accountId: string): Item[] {
  const match = requiredText(args);
  let rows: EmailRow[];
  if (match && textIndexReady(ctx.repo.db)) {
    checkShape(args.filter); // the scan would have met a bad operator or condition name on the rows the index skips
    // The index first (an IN subquery: a join let SQLite scan the account's emails and probe the index per row).
    rows = ctx.repo.db.prepare(`SELECT * FROM emails WHERE rowid IN (SELECT rowid FROM email_text WHERE email_text MATCH ?)
      AND account_id = ?`).all(match, accountId) as EmailRow[];
    if (rows.length < PER_EMAIL_MEMBERSHIP) {
      return rows.map((row) => ({ row, mailboxes: ctx.repo.mailboxIdsOf(row.id), keywords: new Set(ctx.repo.keywordsOf(row.id)) }));
    }
  } else rows = ctx.repo.emails(accountId);
  const { mailboxes, keywords } = ctx.repo.membership(accountId);
  return rows.map((row) => ({ row, mailboxes: mailboxes.get(row.id) ?? [], keywords: new Set(keywords.get(row.id) ?? []) }));
}

/** Runs filter + sort + collapse; returns the full ordered id list. */
export function runQuery(args: Args, ctx: Ctx, accountId: string): string[] {
  const fast = mailboxListing(args, ctx, accountId);
  if (fast) return fast;
  const items = candidates(args, ctx, accountId);
  const threads = new Map<string, Item[]>();
  for (const i of items) {
    const t = threads.get(i.row.thread_id);
    if (t) t.push(i); else threads.set(i.row.thread_id, [i]);
  }
  const env: Env = { ctx, accountId, threads };
  if (args.sort !== undefined && args.sort !== null && !Array.isArray(args.sort)) throw invalid('sort must be an array');
  const cmps = ((args.sort as unknown[] | null | undefined) ?? []).map((c) => comparator(c, env));
  let list = items.filter((i) => matches(i, args.filter, env));
  list.sort((a, b) => { for (const c of cmps) { const r = c(a, b); if (r) return r; } return idOrder(a, b); });
  if (args.collapseThreads === true) {
    const seen = new Set<string>();
    list = list.filter((i) => !seen.has(i.row.thread_id) && !!seen.add(i.row.thread_id));
  }
  return list.map((i) => i.row.id);
}

/**
 * Full result lists computed in this request, by query and Email state: a client reading a large mailbox sends one
 * Email/query per page in one request (RFC 8620 §5.5 position paging), and each must not redo the whole filter and
 * sort (100 pages of a 100,000-message mailbox took longer than a client's timeout).
 */
const perRequest = new WeakMap<Ctx, Map<string, string[]>>();

function cachedQuery(args: Args, ctx: Ctx, accountId: string): string[] {
  const key = JSON.stringify([accountId, ctx.repo.log.stateString(accountId, 'Email'), args.filter ?? null, args.sort ?? null, args.collapseThreads ?? null]);
  let memo = perRequest.get(ctx);
  if (!memo) perRequest.set(ctx, (memo = new Map()));
  let ids = memo.get(key);
  if (!ids) memo.set(key, (ids = runQuery(args, ctx, accountId)));
  return ids;
}

const query: Handler = (args, ctx) => {
  const allowed = ['accountId', 'filter', 'sort', 'position', 'anchor', 'anchorOffset', 'limit', 'calculateTotal', 'collapseThreads'];
  for (const k of Object.keys(args)) if (!allowed.includes(k)) throw invalid(`unknown argument ${k}`);
  const accountId = account(args, ctx);
  const ids = cachedQuery(args, ctx, accountId);
  const position = args.position ?? 0;
  if (!Number.isInteger(position)) throw invalid('position must be an Int');
  const anchorOffset = args.anchorOffset ?? 0;
  if (!Number.isInteger(anchorOffset)) throw invalid('anchorOffset must be an Int');
  let limit = args.limit === undefined || args.limit === null ? null : uint(args.limit, 'limit');
  let capped = false;
  if (limit === null || limit > MAX_QUERY_LIMIT) { capped = limit !== null; limit = MAX_QUERY_LIMIT; }
  let start: number;
  if (args.anchor !== undefined && args.anchor !== null) {
    const idx = ids.indexOf(resolveId(str(args.anchor, 'anchor'), ctx));
    if (idx < 0) throw new MethodError('anchorNotFound');
    start = Math.max(0, idx + (anchorOffset as number));
  } else {
    start = (position as number) < 0 ? Math.max(0, ids.length + (position as number)) : (position as number);
  }
  const out: Args = { accountId, queryState: ctx.repo.log.stateString(accountId, 'Email'), canCalculateChanges: false,
    position: Math.min(start, ids.length), ids: ids.slice(start, start + limit) };
  if (args.calculateTotal === true) out.total = ids.length;
  if (capped || (args.limit === undefined && ids.length - start > MAX_QUERY_LIMIT)) out.limit = limit;
  return out;
};

export const queryMethods: Record<string, Handler> = { 'Email/query': query };
