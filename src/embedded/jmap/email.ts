/** Email methods (RFC 8621 §4): get, changes, set, import; Thread/get and Thread/changes (§3). */
import type { EmailMetaRow } from '../repo.ts';
import { validKeyword } from '../repo.ts';
import type { DataType } from '../changes.ts';
import { BODY_PROPERTIES, DEFAULT_BODY_PROPERTIES, type ParsedEmail, bodyPartObject, bodyValues, messageHeader } from '../email-view.ts';
import { type HeaderProperty, formAllowed, parseHeaderProperty } from '../header-forms.ts';
import { type Args, type Ctx, type Handler, MethodError, account, changesArgs, getIds, getProperties, invalid, isObj,
  onlyArgs, resolveId, setPreamble } from './context.ts';

/** Default Email/get properties (RFC 8621 §4.2). */
export const DEFAULT_EMAIL_PROPERTIES = ['id', 'blobId', 'threadId', 'mailboxIds', 'keywords', 'size', 'receivedAt',
  'messageId', 'inReplyTo', 'references', 'sender', 'from', 'to', 'cc', 'bcc', 'replyTo', 'subject', 'sentAt',
  'hasAttachment', 'preview', 'bodyValues', 'textBody', 'htmlBody', 'attachments'];
const EMAIL_PROPERTIES = new Set([...DEFAULT_EMAIL_PROPERTIES, 'headers', 'bodyStructure']);
/** Convenience properties that are a header in a parsed form (RFC 8621 §4.1.3). */
const HEADER_ALIASES: Record<string, HeaderProperty> = {
  messageId: { name: 'Message-ID', form: 'MessageIds', all: false },
  inReplyTo: { name: 'In-Reply-To', form: 'MessageIds', all: false },
  references: { name: 'References', form: 'MessageIds', all: false },
  sender: { name: 'Sender', form: 'Addresses', all: false },
  from: { name: 'From', form: 'Addresses', all: false },
  to: { name: 'To', form: 'Addresses', all: false },
  cc: { name: 'Cc', form: 'Addresses', all: false },
  bcc: { name: 'Bcc', form: 'Addresses', all: false },
  replyTo: { name: 'Reply-To', form: 'Addresses', all: false },
  subject: { name: 'Subject', form: 'Text', all: false },
  sentAt: { name: 'Date', form: 'Date', all: false },
};

/** UTCDate (RFC 8620 §1.4) with `Z` and no fractional seconds. */
export const utcDate = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

const knownHeaderProp = (p: string) => {
  const hp = parseHeaderProperty(p);
  if (!hp) return false;
  if (!formAllowed(hp.name, hp.form)) throw invalid(`header form ${hp.form} is not allowed for ${hp.name}`);
  return true;
};

const asRecord = (list: string[]) => Object.fromEntries(list.map((x) => [x, true]));

const get: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'ids', 'properties', 'bodyProperties', 'fetchTextBodyValues', 'fetchHTMLBodyValues',
    'fetchAllBodyValues', 'maxBodyValueBytes']);
  const accountId = account(args, ctx);
  let ids = getIds(args, ctx);
  const props = getProperties(args, (p) => EMAIL_PROPERTIES.has(p) || knownHeaderProp(p)) ?? DEFAULT_EMAIL_PROPERTIES;
  const bodyProps = getProperties({ properties: args.bodyProperties }, (p) => BODY_PROPERTIES.has(p) || knownHeaderProp(p)) ?? DEFAULT_BODY_PROPERTIES;
  const maxBytes = args.maxBodyValueBytes ?? 0;
  if (!Number.isInteger(maxBytes) || (maxBytes as number) < 0) throw invalid('maxBodyValueBytes must be an UnsignedInt');
  const state = ctx.repo.log.stateString(accountId, 'Email');
  if (ids === null) {
    ids = ctx.repo.emails(accountId).map((e) => e.id);
    if (ids.length > ctx.limits.maxObjectsInGet) throw new MethodError('requestTooLarge');
  }
  const list: Args[] = [], notFound: string[] = [];
  for (const id of ids) {
    const row = ctx.repo.email(accountId, id);
    if (!row) { notFound.push(id); continue; }
    list.push(emailObject(ctx, row, props, bodyProps, {
      text: args.fetchTextBodyValues === true, html: args.fetchHTMLBodyValues === true, all: args.fetchAllBodyValues === true,
      maxBytes: maxBytes as number,
    }));
  }
  return { accountId, state, list, notFound };
};

function emailObject(ctx: Ctx, row: EmailMetaRow, props: string[], bodyProps: string[],
  bv: { text: boolean; html: boolean; all: boolean; maxBytes: number }): Args {
  let parsed: ParsedEmail | null = null;
  const p = () => (parsed ??= ctx.repo.parsedBlob(row.account_id, row.blob_id)!);
  const o: Args = { id: row.id };
  for (const prop of props) {
    const alias = HEADER_ALIASES[prop];
    if (alias) { o[prop] = messageHeader(p(), alias); continue; }
    const hp = parseHeaderProperty(prop);
    if (hp) { o[prop] = messageHeader(p(), hp); continue; }
    switch (prop) {
      case 'id': break;
      case 'blobId': o.blobId = row.blob_id; break;
      case 'threadId': o.threadId = row.thread_id; break;
      case 'mailboxIds': o.mailboxIds = asRecord(ctx.repo.mailboxIdsOf(row.id)); break;
      case 'keywords': o.keywords = asRecord(ctx.repo.keywordsOf(row.id)); break;
      case 'size': o.size = row.size; break;
      case 'receivedAt': o.receivedAt = utcDate(row.received_at); break;
      case 'hasAttachment': o.hasAttachment = row.has_attachment === 1; break;
      case 'preview': o.preview = row.preview; break;
      case 'headers': o.headers = p().headers.map((h) => ({ name: h.name, value: h.value })); break;
      case 'bodyStructure': o.bodyStructure = bodyPartObject(p(), p().root, row.blob_id, [...bodyProps, ...(bodyProps.includes('subParts') ? [] : ['subParts'])]); break;
      case 'textBody': case 'htmlBody': case 'attachments':
        o[prop] = p()[prop].map((part) => bodyPartObject(p(), part, row.blob_id, bodyProps.filter((b) => b !== 'subParts'))); break;
      case 'bodyValues': o.bodyValues = bodyValues(p(), bv); break;
    }
  }
  return o;
}

function changesOf(type: DataType): Handler {
  return (args, ctx) => {
    onlyArgs(args, ['accountId', 'sinceState', 'maxChanges']);
    const accountId = account(args, ctx);
    const { sinceState, maxChanges } = changesArgs(args);
    const since = ctx.repo.log.parse(accountId, type, sinceState);
    if (since === null) throw new MethodError('cannotCalculateChanges');
    const c = ctx.repo.log.since(accountId, type, since, maxChanges);
    const epoch = ctx.repo.log.stateString(accountId, type).split('-')[1];
    return { accountId, oldState: sinceState, newState: `${c.newState}-${epoch}`, hasMoreChanges: c.hasMoreChanges,
      created: c.created, updated: c.updated, destroyed: c.destroyed };
  };
}

/** Applies a full value or patch paths (`keywords/$seen`) to a set-valued property (RFC 8620 §5.3 PatchObject). */
function patchSet(current: string[], patch: Args, prop: 'keywords' | 'mailboxIds', ctx: Ctx):
  { value: string[] } | { error: Args } {
  const bad = (description: string) => ({ error: { type: 'invalidProperties', properties: [prop], description } });
  let set = new Set(current);
  let touched = false;
  for (const [path, v] of Object.entries(patch)) {
    if (path === prop) {
      if (!isObj(v) || !Object.values(v).every((x) => x === true)) return bad(`${prop} must map to true`);
      set = new Set(Object.keys(v).map((k) => (prop === 'keywords' ? k.toLowerCase() : resolveId(k, ctx))));
      touched = true;
    } else if (path.startsWith(`${prop}/`)) {
      const key = path.slice(prop.length + 1).replace(/~1/g, '/').replace(/~0/g, '~');
      const k = prop === 'keywords' ? key.toLowerCase() : resolveId(key, ctx);
      if (v === true) set.add(k); else if (v === null) set.delete(k); else return bad(`${path} must be true or null`);
      touched = true;
    }
  }
  if (!touched) return { value: current };
  if (Object.keys(patch).includes(prop) && Object.keys(patch).some((p) => p.startsWith(`${prop}/`)))
    return bad('cannot both replace and patch'); // RFC 8620 §5.3: a patch may not set a property and its sub-path
  return { value: [...set] };
}

function checkKeywordsAndMailboxes(ctx: Ctx, accountId: string, keywords: string[], mailboxIds: string[]): Args | null {
  const badKw = keywords.filter((k) => !validKeyword(k));
  if (badKw.length) return { type: 'invalidProperties', properties: ['keywords'], description: `invalid keyword ${badKw[0]}` };
  if (mailboxIds.length === 0) return { type: 'invalidProperties', properties: ['mailboxIds'], description: 'an Email must be in a Mailbox' };
  if (mailboxIds.some((m) => !ctx.repo.mailbox(accountId, m))) return { type: 'invalidProperties', properties: ['mailboxIds'], description: 'unknown mailbox' };
  return null;
}

const set: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'ifInState', 'create', 'update', 'destroy']);
  const accountId = account(args, ctx, true);
  const oldState = ctx.repo.log.stateString(accountId, 'Email');
  const { create, update, destroy } = setPreamble(args, ctx, oldState);
  const notCreated: Args = {}, updated: Args = {}, notUpdated: Args = {}, notDestroyed: Args = {}, destroyed: string[] = [];
  // Creating drafts from parts is not offered: clients upload the message and use Email/import (RFC 8621 §4.8).
  for (const cid of Object.keys(create)) notCreated[cid] = { type: 'invalidProperties', properties: ['bodyStructure'],
    description: 'Email/set create is not supported here; upload the message and use Email/import' };
  for (const [id, patch] of Object.entries(update)) ctx.repo.tx(() => {
    if (!ctx.repo.email(accountId, id)) { notUpdated[id] = { type: 'notFound' }; return; }
    const other = Object.keys(patch).filter((p) => !/^(keywords|mailboxIds)(\/.*)?$/.test(p));
    if (other.length) { notUpdated[id] = { type: 'invalidProperties', properties: other, description: 'immutable property' }; return; }
    const kw = patchSet(ctx.repo.keywordsOf(id), patch, 'keywords', ctx);
    const mb = patchSet(ctx.repo.mailboxIdsOf(id), patch, 'mailboxIds', ctx);
    if ('error' in kw) { notUpdated[id] = kw.error; return; }
    if ('error' in mb) { notUpdated[id] = mb.error; return; }
    const err = checkKeywordsAndMailboxes(ctx, accountId, kw.value, mb.value);
    if (err) { notUpdated[id] = err; return; }
    ctx.repo.setKeywords(accountId, id, kw.value);
    ctx.repo.setMailboxes(accountId, id, mb.value);
    updated[id] = null;
  });
  for (const raw of destroy) ctx.repo.tx(() => {
    const id = resolveId(raw, ctx);
    if (!ctx.repo.email(accountId, id)) { notDestroyed[raw] = { type: 'notFound' }; return; }
    ctx.repo.destroyEmail(accountId, id);
    destroyed.push(id);
  });
  const orNull = (o: Args) => (Object.keys(o).length ? o : null);
  return { accountId, oldState, newState: ctx.repo.log.stateString(accountId, 'Email'), created: null,
    updated: orNull(updated), destroyed: destroyed.length ? destroyed : null, notCreated: orNull(notCreated),
    notUpdated: orNull(notUpdated), notDestroyed: orNull(notDestroyed) };
};

/** Email/import (RFC 8621 §4.8): creates Emails from uploaded blobs. */
const importEmails: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'ifInState', 'emails']);
  const accountId = account(args, ctx, true);
  const oldState = ctx.repo.log.stateString(accountId, 'Email');
  if (args.ifInState !== undefined && args.ifInState !== null && args.ifInState !== oldState) throw new MethodError('stateMismatch');
  if (!isObj(args.emails) || !Object.values(args.emails).every(isObj)) throw invalid('emails must be a map of EmailImport objects');
  const emails = args.emails as Record<string, Args>;
  if (Object.keys(emails).length > ctx.limits.maxObjectsInSet) throw new MethodError('requestTooLarge');
  const created: Args = {}, notCreated: Args = {};
  // One fsynced commit for the whole call (new messages are durable when answered; db.ts), each email a savepoint.
  ctx.repo.durableTx(() => { for (const [cid, e] of Object.entries(emails)) ctx.repo.tx(() => {
    const bad = (properties: string[], description: string) => { notCreated[cid] = { type: 'invalidProperties', properties, description }; };
    const extra = Object.keys(e).filter((k) => !['blobId', 'mailboxIds', 'keywords', 'receivedAt'].includes(k));
    if (extra.length) return bad(extra, 'unknown property');
    if (typeof e.blobId !== 'string') return bad(['blobId'], 'blobId is required');
    const blobId = resolveId(e.blobId, ctx);
    if (!isObj(e.mailboxIds) || !Object.values(e.mailboxIds).every((v) => v === true)) return bad(['mailboxIds'], 'mailboxIds must map to true');
    const kwIn = e.keywords ?? {};
    if (!isObj(kwIn) || !Object.values(kwIn).every((v) => v === true)) return bad(['keywords'], 'keywords must map to true');
    let receivedAt = Date.now();
    if (e.receivedAt !== undefined) {
      if (typeof e.receivedAt !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(e.receivedAt)) return bad(['receivedAt'], 'not a UTCDate');
      receivedAt = Math.floor(Date.parse(e.receivedAt) / 1000) * 1000;
    } else receivedAt = Math.floor(receivedAt / 1000) * 1000;
    const mailboxIds = Object.keys(e.mailboxIds).map((m) => resolveId(m, ctx));
    const keywords = Object.keys(kwIn).map((k) => k.toLowerCase());
    const err = checkKeywordsAndMailboxes(ctx, accountId, keywords, mailboxIds);
    if (err) { notCreated[cid] = err; return; }
    const blob = ctx.repo.getBlob(accountId, blobId);
    if (!blob) { notCreated[cid] = { type: 'blobNotFound', notFound: [blobId] }; return; }
    if (blob.data.length > ctx.limits.maxSizeUpload) { notCreated[cid] = { type: 'tooLarge' }; return; }
    if (ctx.repo.wouldExceedQuota(accountId, blob.data.length)) { notCreated[cid] = { type: 'overQuota' }; return; }
    const stored = /_\d+$/.test(blobId) ? ctx.repo.putBlob(accountId, blob.data, 'message/rfc822').blobId : blobId;
    const row = ctx.repo.createEmail(accountId, stored, mailboxIds, keywords, receivedAt);
    ctx.createdIds.set(cid, row.id);
    created[cid] = { id: row.id, blobId: row.blob_id, threadId: row.thread_id, size: row.size };
  }); });
  return { accountId, oldState, newState: ctx.repo.log.stateString(accountId, 'Email'),
    created: Object.keys(created).length ? created : null, notCreated: Object.keys(notCreated).length ? notCreated : null };
};

/** Thread/get (RFC 8621 §3.1): emailIds sorted by receivedAt, oldest first. */
const threadGet: Handler = (args, ctx) => {
  onlyArgs(args, ['accountId', 'ids', 'properties']);
  const accountId = account(args, ctx);
  const ids = getIds(args, ctx);
  if (ids === null) throw new MethodError('requestTooLarge', { description: 'Thread/get needs ids' });
  const props = getProperties(args, (p) => p === 'id' || p === 'emailIds') ?? ['id', 'emailIds'];
  const list: Args[] = [], notFound: string[] = [];
  for (const id of ids) {
    const emailIds = ctx.repo.threadEmailIds(id).filter((e) => ctx.repo.email(accountId, e));
    if (!emailIds.length) { notFound.push(id); continue; }
    list.push(props.includes('emailIds') ? { id, emailIds } : { id });
  }
  return { accountId, state: ctx.repo.log.stateString(accountId, 'Thread'), list, notFound };
};

const queryChangesUnsupported: Handler = (args, ctx) => {
  const accountId = account(args, ctx);
  // RFC 8620 §5.6: a server may always answer cannotCalculateChanges; an unchanged state is answered exactly.
  if (args.sinceQueryState === ctx.repo.log.stateString(accountId, 'Email') && args.calculateTotal !== true)
    return { accountId, oldQueryState: args.sinceQueryState, newQueryState: args.sinceQueryState, removed: [], added: [] };
  throw new MethodError('cannotCalculateChanges');
};

export const emailMethods: Record<string, Handler> = {
  'Email/get': get, 'Email/changes': changesOf('Email'), 'Email/set': set, 'Email/import': importEmails,
  'Email/queryChanges': queryChangesUnsupported,
  'Thread/get': threadGet, 'Thread/changes': changesOf('Thread'),
};
