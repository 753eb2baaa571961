/** Mailbox methods (RFC 8621 §2): get, changes, query, queryChanges, set. */
import type { MailboxRow } from '../repo.ts';
import { type Args, type Ctx, type Handler, MethodError, account, changesArgs, getIds, getProperties, invalid, isObj,
  onlyArgs, resolveId, setPreamble } from './context.ts';

/** Mailbox properties (RFC 8621 §2.1). */
export const MAILBOX_PROPERTIES = ['id', 'name', 'parentId', 'role', 'sortOrder', 'totalEmails', 'unreadEmails',
  'totalThreads', 'unreadThreads', 'myRights', 'isSubscribed'];
const COUNT_PROPERTIES = ['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads'];
/** Full rights: one user owns its one account (RFC 8621 §2.1 MailboxRights). */
const MY_RIGHTS = { mayReadItems: true, mayAddItems: true, mayRemoveItems: true, maySetSeen: true, maySetKeywords: true,
  mayCreateChild: true, mayRename: true, mayDelete: true, maySubmit: true };
/** A read-only shared account (RFC 8620 §2 isReadOnly): read, nothing else (RFC 8621 §2.1). */
const READ_RIGHTS = { mayReadItems: true, mayAddItems: false, mayRemoveItems: false, maySetSeen: false, maySetKeywords: false,
  mayCreateChild: false, mayRename: false, mayDelete: false, maySubmit: false };
/** Roles from the IANA "IMAP Mailbox Name Attributes" registry usable as JMAP roles (RFC 8621 §2, RFC 6154). */
const ROLES = new Set(['all', 'archive', 'drafts', 'flagged', 'important', 'inbox', 'junk', 'sent', 'subscribed', 'trash']);

function toObject(ctx: Ctx, m: MailboxRow, props: string[]): Args {
  const counts = props.some((p) => COUNT_PROPERTIES.includes(p)) ? ctx.repo.mailboxCounts(m.id) : null;
  const all: Args = { id: m.id, name: m.name, parentId: m.parent_id, role: m.role, sortOrder: m.sort_order,
    ...counts, myRights: ctx.repo.access(ctx.user, m.account_id) === 'ro' ? READ_RIGHTS : MY_RIGHTS, isSubscribed: m.is_subscribed === 1 };
  return Object.fromEntries(props.map((p) => [p, all[p]]));
}

const get: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'ids', 'properties']);
  const accountId = account(args, ctx);
  const ids = getIds(args, ctx);
  const props = getProperties(args, (p) => MAILBOX_PROPERTIES.includes(p)) ?? MAILBOX_PROPERTIES;
  if (!props.includes('id')) props.unshift('id');
  const state = ctx.repo.log.stateString(accountId, 'Mailbox');
  const all = ctx.repo.mailboxes(accountId);
  const list = (ids ?? all.map((m) => m.id)).map((id) => all.find((m) => m.id === id));
  return { accountId, state, list: list.filter((m) => m).map((m) => toObject(ctx, m!, props)),
    notFound: (ids ?? []).filter((id) => !all.some((m) => m.id === id)) };
};

const changes: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'sinceState', 'maxChanges']);
  const accountId = account(args, ctx);
  const { sinceState, maxChanges } = changesArgs(args);
  const since = ctx.repo.log.parse(accountId, 'Mailbox', sinceState);
  if (since === null) throw new MethodError('cannotCalculateChanges');
  const c = ctx.repo.log.since(accountId, 'Mailbox', since, maxChanges);
  const [, epoch] = ctx.repo.log.stateString(accountId, 'Mailbox').split('-');
  return { accountId, oldState: sinceState, newState: `${c.newState}-${epoch}`, hasMoreChanges: c.hasMoreChanges,
    created: c.created, updated: c.updated, destroyed: c.destroyed,
    // RFC 8621 §2.2: the count properties when only they changed, else null.
    updatedProperties: c.onlyCounts && c.updated.length ? COUNT_PROPERTIES : null };
};

/** Mailbox/query (RFC 8621 §2.3) with the filter of §2.3 and sort on sortOrder/name. */
const query: Handler = (args, ctx) => {
  const accountId = account(args, ctx);
  const all = ctx.repo.mailboxes(accountId);
  const filter = args.filter ?? null;
  const match = (m: MailboxRow, f: unknown): boolean => {
    if (!isObj(f)) return true;
    if (typeof f.operator === 'string') {
      const conds = Array.isArray(f.conditions) ? f.conditions : [];
      if (f.operator === 'AND') return conds.every((c) => match(m, c));
      if (f.operator === 'OR') return conds.some((c) => match(m, c));
      if (f.operator === 'NOT') return !conds.some((c) => match(m, c));
      throw invalid('unknown operator');
    }
    for (const [k, v] of Object.entries(f)) {
      if (k === 'parentId') { if (m.parent_id !== v) return false; }
      else if (k === 'name') { if (typeof v !== 'string' || !m.name.toLowerCase().includes(v.toLowerCase())) return false; }
      else if (k === 'role') { if (m.role !== v) return false; }
      else if (k === 'hasAnyRole') { if ((m.role !== null) !== v) return false; }
      else if (k === 'isSubscribed') { if ((m.is_subscribed === 1) !== v) return false; }
      else throw new MethodError('unsupportedFilter', { description: `filter ${k}` });
    }
    return true;
  };
  let list = all.filter((m) => match(m, filter));
  const sort = Array.isArray(args.sort) ? args.sort : [];
  for (const c of [...sort].reverse()) {
    if (!isObj(c) || !['sortOrder', 'name', 'parentId'].includes(c.property as string)) throw new MethodError('unsupportedSort');
    const dir = c.isAscending === false ? -1 : 1;
    const key = (m: MailboxRow) => c.property === 'sortOrder' ? m.sort_order : c.property === 'name' ? m.name : m.parent_id ?? '';
    list = [...list].sort((a, b) => (key(a) < key(b) ? -dir : key(a) > key(b) ? dir : 0));
  }
  const position = Number.isInteger(args.position) ? (args.position as number) : 0;
  const start = position < 0 ? Math.max(0, list.length + position) : position;
  const limit = Number.isInteger(args.limit) ? (args.limit as number) : list.length;
  const ids = list.slice(start, start + limit).map((m) => m.id);
  return { accountId, queryState: ctx.repo.log.stateString(accountId, 'Mailbox'), canCalculateChanges: false,
    position: start, ids, ...(args.calculateTotal ? { total: list.length } : {}) };
};

const queryChanges: Handler = (args, ctx) => {
  account(args, ctx);
  throw new MethodError('cannotCalculateChanges');
};

type MailboxInput = { name?: string; parentId?: string | null; role?: string | null; sortOrder?: number; isSubscribed?: boolean };

/** Validates create/update properties; returns a SetError object or the parsed input (RFC 8620 §5.3). */
function readInput(ctx: Ctx, accountId: string, o: Args, id: string | null): MailboxInput | Args {
  const bad: string[] = [];
  const input: MailboxInput = {};
  for (const [k, v] of Object.entries(o)) {
    if (k === 'name') { if (typeof v === 'string' && v.length > 0 && v.length <= 255 && !/[\0-\x1f\x7f]/.test(v)) input.name = v; else bad.push(k); }
    else if (k === 'parentId') {
      if (v === null) input.parentId = null;
      else if (typeof v === 'string' && ctx.repo.mailbox(accountId, resolveId(v, ctx))) input.parentId = resolveId(v, ctx);
      else bad.push(k);
    }
    else if (k === 'role') { if (v === null || (typeof v === 'string' && ROLES.has(v))) input.role = v; else bad.push(k); }
    else if (k === 'sortOrder') { if (Number.isInteger(v) && (v as number) >= 0) input.sortOrder = v as number; else bad.push(k); }
    else if (k === 'isSubscribed') { if (typeof v === 'boolean') input.isSubscribed = v; else bad.push(k); }
    else if (k === 'id' || COUNT_PROPERTIES.includes(k) || k === 'myRights') {
      // Server-set properties may be sent only with their current value (RFC 8620 §5.3).
      const cur = id ? toObject(ctx, ctx.repo.mailbox(accountId, id)!, [k])[k] : undefined;
      if (JSON.stringify(cur) !== JSON.stringify(v)) bad.push(k);
    } else bad.push(k);
  }
  if (bad.length) return { type: 'invalidProperties', properties: bad };
  const all = ctx.repo.mailboxes(accountId);
  const cur = id ? all.find((m) => m.id === id) : undefined;
  const name = input.name ?? cur?.name;
  const parentId = input.parentId !== undefined ? input.parentId : cur?.parent_id ?? null;
  if (name === undefined) return { type: 'invalidProperties', properties: ['name'], description: 'name is required' };
  if (all.some((m) => m.id !== id && m.parent_id === parentId && m.name === name))
    return { type: 'invalidProperties', properties: ['name'], description: 'a sibling has this name' };
  if (input.role && all.some((m) => m.id !== id && m.role === input.role))
    return { type: 'invalidProperties', properties: ['role'], description: 'role already in use' };
  for (let p = parentId; p && id; p = all.find((m) => m.id === p)?.parent_id ?? null)
    if (p === id) return { type: 'invalidProperties', properties: ['parentId'], description: 'would create a loop' };
  return input;
}

const set: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'ifInState', 'create', 'update', 'destroy', 'onDestroyRemoveEmails']);
  const accountId = account(args, ctx, true);
  const oldState = ctx.repo.log.stateString(accountId, 'Mailbox');
  const { create, update, destroy } = setPreamble(args, ctx, oldState);
  const r = { created: {} as Args, updated: {} as Args, destroyed: [] as string[], notCreated: {} as Args,
    notUpdated: {} as Args, notDestroyed: {} as Args };
  for (const [cid, o] of Object.entries(create)) ctx.repo.tx(() => {
    const input = readInput(ctx, accountId, o, null);
    if ('type' in input) { r.notCreated[cid] = input; return; }
    const m = input as MailboxInput;
    const id = ctx.repo.createMailbox(accountId, { name: m.name!, parentId: m.parentId ?? null, role: m.role ?? null,
      sortOrder: m.sortOrder ?? 0, isSubscribed: m.isSubscribed ?? false });
    ctx.createdIds.set(cid, id);
    r.created[cid] = { id, ...toObject(ctx, ctx.repo.mailbox(accountId, id)!, [...COUNT_PROPERTIES, 'myRights']),
      ...(m.sortOrder === undefined ? { sortOrder: 0 } : {}), ...(m.isSubscribed === undefined ? { isSubscribed: false } : {}) };
  });
  for (const [id, patch] of Object.entries(update)) ctx.repo.tx(() => {
    if (!ctx.repo.mailbox(accountId, id)) { r.notUpdated[id] = { type: 'notFound' }; return; }
    const input = readInput(ctx, accountId, patch, id);
    if ('type' in input) { r.notUpdated[id] = input; return; }
    ctx.repo.updateMailbox(accountId, id, input as MailboxInput);
    r.updated[id] = null;
  });
  const removeEmails = args.onDestroyRemoveEmails === true;
  for (const raw of destroy) ctx.repo.tx(() => {
    const id = resolveId(raw, ctx);
    if (!ctx.repo.mailbox(accountId, id)) { r.notDestroyed[raw] = { type: 'notFound' }; return; }
    if (ctx.repo.mailboxes(accountId).some((m) => m.parent_id === id)) { r.notDestroyed[raw] = { type: 'mailboxHasChild' }; return; }
    if (!removeEmails && ctx.repo.emailIdsInMailbox(id).length) { r.notDestroyed[raw] = { type: 'mailboxHasEmail' }; return; }
    ctx.repo.destroyMailbox(accountId, id);
    r.destroyed.push(id);
  });
  const out: Args = { accountId, oldState, newState: ctx.repo.log.stateString(accountId, 'Mailbox') };
  for (const [k, v] of Object.entries(r)) out[k] = Array.isArray(v) ? (v.length ? v : null) : Object.keys(v).length ? v : null;
  return out;
};

export const mailboxMethods: Record<string, Handler> = {
  'Mailbox/get': get, 'Mailbox/changes': changes, 'Mailbox/query': query, 'Mailbox/queryChanges': queryChanges,
  'Mailbox/set': set,
};
