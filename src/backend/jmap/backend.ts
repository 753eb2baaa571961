/**
 * JmapBackend: MailBackend (../backend.ts) over a JMAP Mail server (RFC 8621) through JmapClient.
 * Keywords and mailbox ids pass through unchanged: IMAP flag <-> keyword mapping is the session's job.
 */
import {
  BackendError, type Changes, type EmailMeta, type MailBackend, type MailboxChanges, type MailboxInfo, type MailboxListing,
  type MailboxRights, type RawHeaders, type BlobImport, type BackendInfo, type QuotaInfo, type OtherAccount, type OneImport, type OneImportArgs,
  type KeywordWriteReport,
} from '../backend.ts';
import { ImapError } from '../../protocol/errors.ts';
import { chunk, responseOf, type JmapClient } from './client.ts';
import { jmapError } from './errors.ts';
import { pointerToken } from './refs.ts';
import { readEventStream } from './eventsource.ts';
import { BLOB } from './blobs.ts';
import { decodeBase64, encodeBase64 } from '../../encoding/base64.ts';
import { findImported, findImportedByDigest } from './import-readback.ts';

/** Ping interval asked of the push server (RFC 8620 §7.3 `ping`): keeps proxies from closing an idle stream. */
const PUSH_PING_SECONDS = 60;
import { CORE, MAIL, QUOTA, type JmapSession, type MethodCall, type SetError } from './types.ts';
import type { MailboxCreate, MailboxPatch, WriteStates } from '../backend.ts';

/**
 * RFC 8621 §2 Mailbox properties the gateway reads. Not the counters (`totalEmails`, `unreadEmails`): IMAP counts
 * come from the UID map, and a store computes the counters of every mailbox on each `Mailbox/get` that asks for
 * them (the embedded store: a join over all of the account's emails, ~0.1 s at 100,000 messages, on every SELECT).
 */
const MAILBOX_PROPERTIES = ['id', 'name', 'parentId', 'role', 'sortOrder', 'isSubscribed', 'myRights'];
/** RFC 9404 §4.2 `data:asText` back to the blob's octets (valid UTF-8 round-trips exactly). */
const UTF8 = new TextEncoder();
/** RFC 8621 §4.1 Email metadata properties behind EmailMeta. */
const EMAIL_PROPERTIES = ['id', 'blobId', 'threadId', 'mailboxIds', 'keywords', 'size', 'receivedAt'];

/** Rights assumed when a server omits `myRights` or one of its members (RFC 8621 §2 makes them required). */
const FULL_RIGHTS: MailboxRights = {
  mayReadItems: true, mayAddItems: true, mayRemoveItems: true, maySetSeen: true, maySetKeywords: true,
  mayCreateChild: true, mayRename: true, mayDelete: true, maySubmit: true,
};

/** One email's requested change of a set-valued property (`keywords` or `mailboxIds`); `replace`: the whole new set. */
type SetChange = { id: string; add: string[]; remove: string[]; replace?: string[] };
type PatchField = 'keywords' | 'mailboxIds';
/** RFC 8620 §5.3 PatchObject: JSON Pointer path -> value (`true` to add a member, `null` to remove it, or a whole set). */
type Patch = Record<string, true | null | Record<string, true>>;

export class JmapBackend implements MailBackend {
  private constructor(private readonly client: JmapClient, readonly accountId: string, private readonly session: JmapSession) {}

  /** `accountId` argument of every call: this backend's account, which need not be the primary one (RFC 8620 §2). */
  private get acct(): { accountId: string } {
    return { accountId: this.accountId };
  }

  private others: OtherAccount[] | undefined;

  /** RFC 8620 §2 accounts with `isPersonal: false` and the mail capability, each bound to a backend (built once). */
  otherAccounts(): OtherAccount[] {
    this.others ??= Object.entries(this.session.accounts)
      .filter(([id, a]) => id !== this.accountId && !a.isPersonal && (!a.accountCapabilities || MAIL in a.accountCapabilities))
      .map(([accountId, a]) => ({ accountId, name: String(a.name ?? accountId), readOnly: a.isReadOnly === true,
        backend: new JmapBackend(this.client, accountId, this.session) }));
    return this.others;
  }

  /** Resolve the mail account (one session fetch if not cached) and build the backend. */
  static async connect(client: JmapClient): Promise<JmapBackend> {
    const accountId = await client.accountId();
    return new JmapBackend(client, accountId, await client.session());
  }

  serverInfo(): BackendInfo {
    const s = this.session;
    return { sessionUrl: s.url, maxSizeUpload: s.limits.maxSizeUpload, quota: this.quotaAccount() !== null, sessionState: s.state };
  }

  /** RFC 9425 §4.1 Quota/get `ids: null`; only quotas on mail (RFC 9425 §4.1 `types` with `Mail`, or none given). */
  async getQuotas(): Promise<QuotaInfo[] | null> {
    const accountId = this.quotaAccount();
    if (accountId === null) return null;
    const r = responseOf(await this.client.call([['Quota/get', { accountId, ids: null }, 'q']], [CORE, QUOTA]), 'q', 'Quota/get');
    const out: QuotaInfo[] = [];
    for (const q of (r.list ?? []) as Record<string, unknown>[]) {
      const types = Array.isArray(q.types) ? q.types.map(String) : [];
      if (types.length > 0 && !types.includes('Mail')) continue;
      if (q.resourceType !== 'octets' && q.resourceType !== 'count') continue;
      if (typeof q.used !== 'number' || typeof q.hardLimit !== 'number') continue;
      out.push({ id: String(q.id), name: String(q.name ?? q.id), resourceType: q.resourceType, used: q.used, hardLimit: q.hardLimit });
    }
    return out;
  }

  /** The account to ask for quotas: the quota capability's primary account, when it is this mail account. */
  private quotaAccount(): string | null {
    const s = this.session;
    if (!(QUOTA in s.capabilities)) return null;
    const id = s.primaryAccounts[QUOTA] ?? this.accountId;
    const account = s.accounts[id];
    if (account && account.accountCapabilities && !(QUOTA in account.accountCapabilities)) return null;
    return id;
  }

  async listMailboxes(): Promise<{ state: string; mailboxes: MailboxInfo[] }> {
    let res: { state: string; list: Record<string, unknown>[] };
    try {
      res = await this.client.get<Record<string, unknown>>('Mailbox', null, MAILBOX_PROPERTIES, this.acct);
    } catch (err) {
      // RFC 8620 §5.1: `ids: null` may exceed maxObjectsInGet; then list the ids and get them in chunks.
      if (!(err instanceof BackendError && err.jmapType === 'requestTooLarge')) throw err;
      const { ids } = await this.client.queryAll('Mailbox', this.acct);
      res = await this.client.get<Record<string, unknown>>('Mailbox', ids, MAILBOX_PROPERTIES, this.acct);
    }
    return { state: res.state, mailboxes: res.list.map(toMailboxInfo) };
  }

  /**
   * `Email/query {inMailbox}` sorted receivedAt ascending, all pages. The Email state comes from an
   * `Email/get {ids: []}` sent before the query in the same request, so it is never newer than the listing
   * (a later `Email/changes` may repeat some changes, never miss one).
   */
  async listEmailIds(mailboxId: string): Promise<MailboxListing> {
    const stateCall: MethodCall = ['Email/get', { accountId: this.accountId, ids: [] }, 'st'];
    const { ids, alongside } = await this.client.queryAll('Email', {
      ...this.acct,
      filter: { inMailbox: mailboxId },
      sort: [{ property: 'receivedAt', isAscending: true }],
      collapseThreads: false,
    }, { alongside: [stateCall] });
    return { ids, emailState: String(responseOf(alongside, 'st', 'Email/get').state ?? '') };
  }

  async getEmails(ids: string[]): Promise<EmailMeta[]> {
    if (ids.length === 0) return [];
    const { list } = await this.client.get<Record<string, unknown>>('Email', ids, EMAIL_PROPERTIES, this.acct);
    return list.map(toEmailMeta);
  }

  async getRawHeaders(ids: string[], names: string[]): Promise<Map<string, RawHeaders>> {
    const out = new Map<string, RawHeaders>();
    if (ids.length === 0) return out;
    for (const n of names) {
      // RFC 8621 §4.1.3: printable ASCII except colon.
      if (!/^[\x21-\x39\x3b-\x7e]+$/.test(n)) throw ImapError.bad('Invalid header field name');
    }
    const props = names.map((n) => `header:${n}:asRaw:all`);
    const { list } = await this.client.get<Record<string, unknown>>('Email', ids, ['id', ...props], this.acct);
    for (const email of list) {
      const byLower = new Map(Object.entries(email).map(([k, v]) => [k.toLowerCase(), v]));
      const headers: RawHeaders = {};
      names.forEach((n, i) => {
        // Servers may echo the property name in another case (header names are case-insensitive).
        const v = byLower.get(props[i]!.toLowerCase()) ?? byLower.get(`header:${n}:all`.toLowerCase());
        headers[n] = Array.isArray(v) ? v.map(String) : [];
      });
      out.set(String(email.id), headers);
    }
    return out;
  }

  async getHeaderLists(ids: string[]): Promise<Map<string, Array<{ name: string; value: string }>>> {
    const out = new Map<string, Array<{ name: string; value: string }>>();
    if (ids.length === 0) return out;
    const { list } = await this.client.get<Record<string, unknown>>('Email', ids, ['id', 'headers'], this.acct);
    for (const email of list) {
      const headers = Array.isArray(email.headers) ? (email.headers as Array<Record<string, unknown>>) : [];
      out.set(String(email.id), headers.map((h) => ({ name: String(h.name ?? ''), value: String(h.value ?? '') })));
    }
    return out;
  }

  async getEmailsWithHeaders(ids: string[], headerIds: string[], opts: { keywordsOnly?: boolean } = {}): Promise<{ metas: EmailMeta[]; headers: Map<string, Array<{ name: string; value: string }>>; state?: string }> {
    const headers = new Map<string, Array<{ name: string; value: string }>>();
    if (ids.length === 0) return { metas: [], headers };
    const withHeaders = new Set(headerIds);
    const { limits } = await this.client.session();
    const calls: MethodCall[] = [];
    const add = (group: string[], properties: string[]): void => {
      for (const c of chunk(group, limits.maxObjectsInGet)) calls.push(['Email/get', { accountId: this.accountId, ids: c, properties }, `g${calls.length}`]);
    };
    add(ids.filter((id) => withHeaders.has(id)), [...EMAIL_PROPERTIES, 'headers']);
    add(ids.filter((id) => !withHeaders.has(id)), opts.keywordsOnly ? ['id', 'keywords'] : EMAIL_PROPERTIES);
    const responses = await this.client.call(calls);
    const metas: EmailMeta[] = [];
    const states = new Set<string>();
    for (const [, , callId] of calls) {
      const r = responseOf(responses, callId, 'Email/get');
      if (typeof r.state === 'string') states.add(r.state);
      for (const email of (r.list as Record<string, unknown>[] | undefined) ?? []) {
        metas.push(toEmailMeta(email));
        if (Array.isArray(email.headers)) {
          headers.set(String(email.id), (email.headers as Array<Record<string, unknown>>).map((h) => ({ name: String(h.name ?? ''), value: String(h.value ?? '') })));
        }
      }
    }
    return { metas, headers, ...(states.size === 1 ? { state: [...states][0]! } : {}) };
  }

  async getPreviews(ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const { list } = await this.client.get<Record<string, unknown>>('Email', ids, ['id', 'preview'], this.acct);
    return new Map(list.map((e) => [String(e.id), typeof e.preview === 'string' ? e.preview : '']));
  }

  downloadBlob(blobId: string): Promise<Uint8Array> {
    return this.client.download(this.accountId, blobId, 'message.eml', 'message/rfc822');
  }

  /**
   * RFC 9404 §4.2 `Blob/get` of `data` (the store answers `data:asText` for a blob that is valid UTF-8, else
   * `data:asBase64`: for text messages ~5% of JSON escapes instead of base64's 33%, and no decoding in JavaScript)
   * and `size`: one request (chunked by maxObjectsInGet, within maxCallsInRequest). Text is taken only with its
   * `size` to check the UTF-8 octets against. Missing from the result: blobs not found, truncated, undecodable or of
   * another length than `size`, and all of them when the store refuses the method (the caller downloads those one
   * by one).
   */
  async downloadBlobs(blobIds: string[]): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>();
    if (blobIds.length === 0 || !this.blobGet()) return out;
    let list: Array<Record<string, unknown>>;
    try {
      list = (await this.client.get<Record<string, unknown>>('Blob', blobIds, ['data', 'size'], this.acct, [CORE, BLOB])).list;
    } catch (err) {
      if (err instanceof BackendError && err.jmapType !== 'unavailable') return out; // a method-level refusal: fall back
      throw err;
    }
    for (const b of list) {
      if (b.isTruncated === true) continue;
      const text = b['data:asText'], b64 = b['data:asBase64'];
      const data = typeof text === 'string' && b.isEncodingProblem !== true && typeof b.size === 'number' ? UTF8.encode(text)
        : typeof b64 === 'string' ? decodeBase64(b64) : null;
      if (data && (typeof b.size !== 'number' || b.size === data.length)) out.set(String(b.id), data);
    }
    return out;
  }

  /** RFC 9404 §3: the session and this account offer Blob/get. */
  private blobGet(): boolean {
    const s = this.session;
    if (!(BLOB in s.capabilities)) return false;
    const account = s.accounts[this.accountId];
    return !account?.accountCapabilities || BLOB in account.accountCapabilities;
  }

  emailChanges(sinceState: string, maxChanges?: number): Promise<Changes> {
    return this.changes('Email', sinceState, maxChanges);
  }

  mailboxChanges(sinceState: string): Promise<Changes> {
    return this.changes('Mailbox', sinceState);
  }

  async mailboxAndEmailChanges(mailboxSince: string, mailboxId: string, emailSince: string | null, maxChanges: number): Promise<{ mailbox: MailboxChanges | null; named: MailboxInfo | null; email: Changes | null }> {
    const calls: MethodCall[] = [
      ['Mailbox/changes', { ...this.acct, sinceState: mailboxSince }, 'm'],
      ['Mailbox/get', { ...this.acct, ids: [mailboxId], properties: MAILBOX_PROPERTIES }, 'g'],
    ];
    if (emailSince !== null) calls.push(['Email/changes', { ...this.acct, sinceState: emailSince, maxChanges }, 'e']);
    const res = await this.client.call(calls);
    const half = (id: string, name: string): Record<string, unknown> | null => {
      try { return responseOf(res, id, name); } catch (err) {
        if (err instanceof BackendError) return null; // a method-level error (RFC 8620 §3.6.2): the caller falls back
        throw err;
      }
    };
    const m = half('m', 'Mailbox/changes');
    const g = (half('g', 'Mailbox/get')?.list as Record<string, unknown>[] | undefined)?.find((x) => String(x.id) === mailboxId);
    const e = emailSince === null ? null : half('e', 'Email/changes');
    const props = m?.updatedProperties;
    return {
      mailbox: m ? { ...toChanges(m, mailboxSince), updatedProperties: Array.isArray(props) ? props.map(String) : null } : null,
      named: g ? toMailboxInfo(g) : null,
      email: e ? toChanges(e, emailSince!) : null,
    };
  }

  updateKeywords(changes: SetChange[], opts: { ifInState?: string; report?: KeywordWriteReport } = {}): Promise<WriteStates | null> {
    return this.updateAllOrNothing('keywords', changes, opts.ifInState, opts.report);
  }

  updateMailboxes(changes: SetChange[]): Promise<WriteStates | null> {
    return this.updateAllOrNothing('mailboxIds', changes);
  }

  /** `Email/set destroy` in batches of maxObjectsInSet. An already-gone email (`notFound`) counts as destroyed. */
  async destroyEmails(ids: string[]): Promise<WriteStates | null> {
    if (ids.length === 0) return null;
    const { limits } = await this.client.session();
    const calls = chunk(ids, limits.maxObjectsInSet)
      .map((c, i): MethodCall => ['Email/set', { accountId: this.accountId, destroy: c }, `d${i}`]);
    const responses = await this.client.call(calls);
    const chain = new StateChain();
    let first: BackendError | undefined;
    for (const [, , callId] of calls) {
      let args: Record<string, unknown>;
      try { args = responseOf(responses, callId, 'Email/set'); } catch (err) { first ??= err as BackendError; continue; }
      chain.add(args);
      for (const e of Object.values((args.notDestroyed ?? {}) as Record<string, SetError>)) {
        if (e.type !== 'notFound') first ??= jmapError(e.type);
      }
    }
    if (first) throw first;
    return chain.result();
  }

  // --- mailboxes (IMAP CREATE / DELETE / RENAME / SUBSCRIBE, STATUS UNSEEN) -------------------------------------

  async unseenEmailIds(mailboxId: string): Promise<string[]> {
    const { ids } = await this.client.queryAll('Email', {
      ...this.acct,
      filter: { inMailbox: mailboxId, notKeyword: '$seen' }, collapseThreads: false,
    });
    return ids;
  }

  async unseenCount(mailboxId: string): Promise<{ count: number; emailState: string } | null> {
    const res = await this.client.call([
      ['Email/get', { accountId: this.accountId, ids: [] }, 'b'],
      ['Email/query', { accountId: this.accountId, filter: { inMailbox: mailboxId, notKeyword: '$seen' }, collapseThreads: false, calculateTotal: true, limit: 0 }, 'q'],
      ['Email/get', { accountId: this.accountId, ids: [] }, 'a'],
    ]);
    const total = responseOf(res, 'q', 'Email/query').total;
    const [before, after] = ['b', 'a'].map((id) => String(responseOf(res, id, 'Email/get').state ?? ''));
    return typeof total === 'number' && before === after ? { count: total, emailState: after! } : null;
  }

  async textQueryIds(mailboxId: string, field: 'text' | 'body', value: string): Promise<string[]> {
    const { ids } = await this.client.queryAll('Email', { ...this.acct, filter: { inMailbox: mailboxId, [field]: value }, collapseThreads: false });
    return ids;
  }

  async createMailboxes(parentId: string | null, chain: MailboxCreate[]): Promise<string[]> {
    if (chain.length === 0) return [];
    // RFC 8620 §5.3: a creation id (`#k`) may stand for the id of a record created earlier in the same call.
    const create = Object.fromEntries(chain.map((m, i) => [`k${i}`, {
      name: m.name, parentId: i === 0 ? parentId : `#k${i - 1}`, ...(m.role ? { role: m.role } : {}),
    }]));
    const r = responseOf(await this.client.call([['Mailbox/set', { accountId: this.accountId, create }, 's']]), 's', 'Mailbox/set');
    const created = (r.created ?? {}) as Record<string, { id?: unknown }>;
    const ids = chain.map((_, i) => created[`k${i}`]?.id).filter((id): id is string => typeof id === 'string');
    if (ids.length === chain.length) return ids;
    const refused = Object.values((r.notCreated ?? {}) as Record<string, SetError>)[0];
    await this.destroyMailboxes(ids.reverse(), false).catch(() => undefined);
    throw mailboxSetError(refused);
  }

  async updateMailbox(id: string, patch: MailboxPatch): Promise<void> {
    const r = responseOf(await this.client.call([['Mailbox/set', { accountId: this.accountId, update: { [id]: patch } }, 's']]), 's', 'Mailbox/set');
    const refused = ((r.notUpdated ?? {}) as Record<string, SetError>)[id];
    if (refused || !(id in ((r.updated ?? {}) as object))) throw mailboxSetError(refused);
  }

  async destroyMailboxes(ids: string[], removeEmails: boolean): Promise<void> {
    if (ids.length === 0) return;
    const args = { accountId: this.accountId, destroy: ids, onDestroyRemoveEmails: removeEmails };
    const r = responseOf(await this.client.call([['Mailbox/set', args, 's']]), 's', 'Mailbox/set');
    const refused = Object.values((r.notDestroyed ?? {}) as Record<string, SetError>).find((e) => e.type !== 'notFound');
    if (refused) throw mailboxSetError(refused);
  }

  /**
   * Upload + `Email/import` (RFC 8621 §4.8): two requests. receivedAt defaults to now, set by us so the returned
   * meta is exact without a read-back. A server that refuses a duplicate (`alreadyExists` with `existingId`)
   * gets the existing email added to the mailboxes instead, as IMAP APPEND must still place the message.
   */
  async importEmail(raw: Uint8Array, mailboxIds: string[], keywords: string[], receivedAt?: string): Promise<EmailMeta> {
    const blob = await this.client.upload(this.accountId, raw, 'message/rfc822');
    const at = receivedAt ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const email = { blobId: blob.blobId, mailboxIds: toSet(mailboxIds), keywords: toSet(keywords), receivedAt: at };
    const r = await this.client.call([['Email/import', { accountId: this.accountId, emails: { m: email } }, 'i']]);
    const args = responseOf(r, 'i', 'Email/import');
    const created = (args.created as Record<string, Record<string, unknown>> | null | undefined)?.m;
    if (created) {
      return {
        id: String(created.id), blobId: String(created.blobId ?? blob.blobId), threadId: String(created.threadId ?? ''),
        mailboxIds: [...mailboxIds], keywords: [...keywords], size: Number(created.size ?? raw.length), receivedAt: at,
      };
    }
    const err = (args.notCreated as Record<string, SetError> | null | undefined)?.m;
    if (err?.type === 'alreadyExists' && err.existingId) return this.placeExisting(err.existingId, mailboxIds, keywords);
    throw jmapError(err?.type ?? 'serverFail');
  }

  async uploadBlob(raw: Uint8Array): Promise<string> {
    return (await this.client.upload(this.accountId, raw, 'message/rfc822')).blobId;
  }

  /**
   * MailBackend.importInOne: `Mailbox/changes`, `Mailbox/get` of the destination, RFC 9404 §4.1 `Blob/upload` (the
   * octets as base64 in the API request) and `Email/import` of `#b`, in one request: the four calls must fit one
   * request (`maxCallsInRequest`, `maxSizeRequest`), since a creation id is no result reference and a split would
   * lose it. Null (nothing sent) without Blob/upload or a digest for the read-back, or when too large.
   */
  async importInOne(raw: Uint8Array, email: OneImportArgs, mailboxState: string, opts: { known?: () => Promise<Set<string>> } = {}): Promise<OneImport | null> {
    const { limits } = await this.client.session();
    const alg = this.blobDigest();
    const dest = email.mailboxIds[0];
    if (alg === null || dest === undefined || limits.maxCallsInRequest < 4 || raw.length > limits.maxSizeUpload
      || 4 * Math.ceil(raw.length / 3) + 4096 > limits.maxSizeRequest) return null;
    const imported = { blobId: '#b', mailboxIds: toSet(email.mailboxIds), keywords: toSet(email.keywords), receivedAt: email.receivedAt };
    let res: Awaited<ReturnType<JmapClient['call']>>;
    try {
      res = await this.client.call([
        ['Mailbox/changes', { ...this.acct, sinceState: mailboxState }, 'm'],
        ['Mailbox/get', { ...this.acct, ids: [dest], properties: MAILBOX_PROPERTIES }, 'g'],
        ['Blob/upload', { ...this.acct, create: { b: { data: [{ 'data:asBase64': encodeBase64(raw) }], type: 'message/rfc822' } } }, 'u'],
        ['Email/import', { ...this.acct, emails: { m: imported } }, 'i'],
      ], [CORE, MAIL, BLOB]);
    } catch (err) {
      if (!(err instanceof ImapError) || err.code?.name !== 'UNAVAILABLE') throw err;
      // Unknown outcome (DESIGN.md rule 10): find the email by its content before anything is sent again.
      const octets = raw as Uint8Array<ArrayBuffer>; // an APPEND literal's bytes: never shared memory
      const digest = encodeBase64(new Uint8Array(await crypto.subtle.digest(alg === 'sha' ? 'SHA-1' : 'SHA-256', octets)));
      const found = await findImportedByDigest(this.client, this.accountId, dest, email.receivedAt, alg, digest, (await opts.known?.()) ?? new Set());
      return { mailbox: null, named: null, blobId: null, emailId: found, states: null, error: null };
    }
    const half = (id: string, name: string): Record<string, unknown> | BackendError => {
      try { return responseOf(res, id, name); } catch (err) {
        if (err instanceof BackendError) return err; // a method-level error (RFC 8620 §3.6.2)
        throw err;
      }
    };
    const m = half('m', 'Mailbox/changes');
    const g = half('g', 'Mailbox/get');
    const u = half('u', 'Blob/upload');
    const i = half('i', 'Email/import');
    const props = m instanceof BackendError ? null : m.updatedProperties;
    const named = g instanceof BackendError ? undefined : (g.list as Record<string, unknown>[] | undefined)?.find((x) => String(x.id) === dest);
    const made = u instanceof BackendError ? undefined : (u.created as Record<string, { id?: unknown }> | null | undefined)?.b;
    const blobId = typeof made?.id === 'string' ? made.id : null;
    const upError = u instanceof BackendError ? u : blobId === null ? jmapError((u.notCreated as Record<string, SetError> | null | undefined)?.b?.type ?? 'serverFail') : null;
    const out: OneImport = {
      mailbox: m instanceof BackendError ? null : { ...toChanges(m, mailboxState), updatedProperties: Array.isArray(props) ? props.map(String) : null },
      named: named ? toMailboxInfo(named) : null, blobId, emailId: null, states: null, error: null,
    };
    if (i instanceof BackendError) return { ...out, error: upError ?? i };
    const created = (i.created as Record<string, Record<string, unknown>> | null | undefined)?.m;
    if (created && typeof created.id === 'string') {
      const states = typeof i.oldState === 'string' && typeof i.newState === 'string' ? { oldState: i.oldState, newState: i.newState } : null;
      return { ...out, emailId: created.id, states };
    }
    const refused = (i.notCreated as Record<string, SetError> | null | undefined)?.m;
    if (refused?.type === 'alreadyExists' && blobId !== null) return out; // the usual import places the existing email
    return { ...out, error: upError ?? jmapError(refused?.type ?? 'serverFail') };
  }

  /** RFC 9404 §3: the Blob/upload and digest algorithm this account offers (for importInOne's read-back), or null. */
  private blobDigest(): 'sha' | 'sha-256' | null {
    if (!this.blobGet()) return null;
    const caps = this.session.accounts[this.accountId]?.accountCapabilities?.[BLOB] as { maxDataSources?: unknown; supportedDigestAlgorithms?: unknown } | undefined;
    if (typeof caps?.maxDataSources === 'number' && caps.maxDataSources < 1) return null;
    const algs = Array.isArray(caps?.supportedDigestAlgorithms) ? caps.supportedDigestAlgorithms : [];
    return algs.includes('sha-256') ? 'sha-256' : algs.includes('sha') ? 'sha' : null;
  }

  /**
   * One request of `Email/import` calls (maxObjectsInSet emails each). On any refusal the created emails are
   * destroyed (one more request) and the first error thrown; duplicates refused with `existingId` are placed with
   * one `updateMailboxes` at the end (DESIGN.md rule 10).
   */
  async importBlobs(emails: BlobImport[], opts: { known?: () => Promise<Set<string>>; onStates?: (states: WriteStates | null) => void } = {}): Promise<string[]> {
    if (emails.length === 0) return [];
    opts.onStates?.(null);
    try {
      return await this.importOnce(emails, opts.onStates);
    } catch (err) {
      if (!(err instanceof ImapError) || err.code?.name !== 'UNAVAILABLE') throw err;
      // Unknown outcome (DESIGN.md rule 10): read back, then send again only what is not there.
      const found = await findImported(this.client, this.accountId, emails, (await opts.known?.()) ?? new Set());
      const missing = emails.map((e, i) => ({ e, i })).filter(({ i }) => !found.has(i));
      let again: string[];
      try {
        again = await this.importOnce(missing.map(({ e }) => e));
      } catch (retryErr) {
        await this.destroyEmails([...found.values()]).catch(() => undefined);
        throw retryErr;
      }
      missing.forEach(({ i }, n) => found.set(i, again[n]!));
      return emails.map((_, i) => found.get(i)!);
    }
  }

  /** One `Email/import` request (chunked by `maxObjectsInSet`), all-or-nothing; see `importBlobs` (`onStates` too). */
  private async importOnce(emails: BlobImport[], onStates?: (states: WriteStates | null) => void): Promise<string[]> {
    if (emails.length === 0) return [];
    const { limits } = await this.client.session();
    const groups = chunk(emails.map((e, i) => ({ e, i })), limits.maxObjectsInSet);
    const calls = groups.map((g, n): MethodCall => ['Email/import', {
      accountId: this.accountId,
      emails: Object.fromEntries(g.map(({ e, i }) => [`m${i}`, {
        blobId: e.blobId, mailboxIds: toSet(e.mailboxIds), keywords: toSet(e.keywords),
        ...(e.receivedAt ? { receivedAt: e.receivedAt } : {}),
      }])),
    }, `i${n}`]);
    const responses = await this.client.call(calls);
    const ids: string[] = new Array<string>(emails.length);
    const created: string[] = [];
    const existing: Array<{ id: string; add: string[]; remove: string[] }> = [];
    let failure: unknown;
    const states = new StateChain();
    groups.forEach((g, n) => {
      let args: Record<string, unknown>;
      try { args = responseOf(responses, `i${n}`, 'Email/import'); } catch (err) { failure ??= err; return; }
      states.add(args);
      const ok = (args.created ?? {}) as Record<string, Record<string, unknown>>;
      const refused = (args.notCreated ?? {}) as Record<string, SetError>;
      for (const { e, i } of g) {
        const c = ok[`m${i}`];
        const err = refused[`m${i}`];
        if (c) { ids[i] = String(c.id); created.push(ids[i]); }
        else if (err?.type === 'alreadyExists' && err.existingId) { ids[i] = err.existingId; existing.push({ id: err.existingId, add: e.mailboxIds, remove: [] }); }
        else failure ??= jmapError(err?.type ?? 'serverFail');
      }
    });
    if (failure === undefined && existing.length > 0) await this.updateMailboxes(existing).catch((err: unknown) => { failure = err; });
    if (failure === undefined) { onStates?.(existing.length === 0 ? states.result() : null); return ids; }
    await this.destroyEmails(created).catch(() => undefined);
    throw failure;
  }

  // --- internals -------------------------------------------------------------------------------------------------

  private async placeExisting(id: string, mailboxIds: string[], keywords: string[]): Promise<EmailMeta> {
    await this.updateMailboxes([{ id, add: mailboxIds, remove: [] }]);
    if (keywords.length > 0) await this.updateKeywords([{ id, add: keywords, remove: [] }]);
    const [meta] = await this.getEmails([id]);
    if (!meta) throw jmapError('notFound');
    return meta;
  }

  /** `Email/get` and `Mailbox/get` with `ids: []`: only the state strings (RFC 8620 §5.1), one request. */
  async currentStates(): Promise<{ email: string; mailbox: string }> {
    const res = await this.client.call([
      ['Email/get', { accountId: this.accountId, ids: [] }, 'e'],
      ['Mailbox/get', { accountId: this.accountId, ids: [] }, 'm'],
    ]);
    return { email: String(responseOf(res, 'e', 'Email/get').state ?? ''), mailbox: String(responseOf(res, 'm', 'Mailbox/get').state ?? '') };
  }

  /** RFC 8620 §7.3: one pulse per `state` event naming this account; null when the server has no working push. */
  async openPush(signal: AbortSignal): Promise<AsyncIterable<void> | null> {
    const body = await this.client.openEventSource(['Email', 'Mailbox'], PUSH_PING_SECONDS, signal);
    if (!body) return null;
    const accountId = this.accountId;
    return (async function* pulses() {
      for await (const ev of readEventStream(body)) {
        if (ev.event !== 'state') continue;
        try {
          const change = JSON.parse(ev.data) as { changed?: Record<string, unknown> };
          if (change.changed && accountId in change.changed) yield;
        } catch {
          // A malformed event: ignore it, the next one or the poll fallback will catch up.
        }
      }
    })();
  }

  private async changes(type: 'Email' | 'Mailbox', sinceState: string, maxChanges?: number): Promise<Changes> {
    const name = `${type}/changes`;
    const args = { accountId: this.accountId, sinceState, ...(maxChanges !== undefined ? { maxChanges } : {}) };
    return toChanges(responseOf(await this.client.call([[name, args, 'c']]), 'c', name), sinceState);
  }

  /**
   * `Email/set` patches of `keywords/<k>` or `mailboxIds/<id>` (RFC 8620 §5.3), all-or-nothing (DESIGN.md rule 10).
   * Each batch is an `Email/get` of the field followed by the `Email/set`, in the same request, so the prior values
   * are known at no extra round trip. On the first failure (SetError, method error, transport error) every email
   * already changed gets the inverse patch of what really changed, then the first error is thrown.
   * Batches hold at most min(maxObjectsInSet, maxObjectsInGet) emails; requests at most maxCallsInRequest calls.
   */
  /**
   * `report` (keywords only, MailBackend.updateKeywords): filled with what each batch's `Email/get` read, and
   * `notFound` emails are skipped (listed in it) instead of failing the write.
   */
  private async updateAllOrNothing(field: PatchField, changes: SetChange[], ifInState?: string, report?: KeywordWriteReport): Promise<WriteStates | null> {
    const wanted = changes.filter((c) => c.replace !== undefined || c.add.length + c.remove.length > 0);
    if (wanted.length === 0) return null;
    const { limits } = await this.client.session();
    const batches = chunk(wanted, Math.min(limits.maxObjectsInSet, limits.maxObjectsInGet));
    const pairsPerRequest = Math.max(1, Math.floor(limits.maxCallsInRequest / 2));
    const reverts: Record<string, Patch> = {};
    const states = new StateChain();
    let failure: unknown;
    outer: for (const group of chunk(batches.map((b, i) => ({ b, i })), pairsPerRequest)) {
      const calls = group.flatMap(({ b, i }): MethodCall[] => [
        ['Email/get', { accountId: this.accountId, ids: b.map((c) => c.id), properties: ['id', field] }, `p${i}`],
        ['Email/set', {
          accountId: this.accountId, update: Object.fromEntries(b.map((c) => [c.id, forward(field, c)])),
          ...(i === 0 && ifInState !== undefined ? { ifInState } : {}),
        }, `s${i}`],
      ]);
      let responses;
      try { responses = await this.client.call(calls); } catch (err) { failure = err; break; }
      for (const { b, i } of group) {
        let get: Record<string, unknown>;
        let set: Record<string, unknown>;
        try {
          get = responseOf(responses, `p${i}`, 'Email/get');
          set = responseOf(responses, `s${i}`, 'Email/set');
          states.add(set);
        } catch (err) {
          failure ??= err;
          continue; // a failed method call changed nothing (RFC 8620 §3.6.2)
        }
        const prior = priorValues(get, field);
        if (report) {
          for (const [id, members] of prior) report.before.set(id, members);
          if (typeof get.state !== 'string' || get.state !== set.oldState) report.exact = false; // a writer came between
        }
        const updated = (set.updated ?? {}) as Record<string, unknown>;
        const notUpdated = (set.notUpdated ?? {}) as Record<string, SetError>;
        for (const c of b) {
          if (c.id in updated) {
            const inverse = inversePatch(field, c, prior.get(c.id));
            if (Object.keys(inverse).length > 0) reverts[c.id] = inverse;
          } else if (report && notUpdated[c.id]?.type === 'notFound') {
            report.missing.add(c.id); // gone from the store: nothing to write
          } else {
            failure ??= jmapError(notUpdated[c.id]?.type ?? 'serverFail');
          }
        }
      }
      if (failure) break outer;
    }
    if (failure === undefined) return states.result();
    await this.revert(reverts, limits.maxObjectsInSet);
    throw failure;
  }

  /** Best effort: apply the inverse patches; a failure here cannot be repaired, the original error is what counts. */
  private async revert(reverts: Record<string, Patch>, maxObjectsInSet: number): Promise<void> {
    const entries = Object.entries(reverts);
    if (entries.length === 0) return;
    const calls = chunk(entries, maxObjectsInSet)
      .map((c, i): MethodCall => ['Email/set', { accountId: this.accountId, update: Object.fromEntries(c) }, `r${i}`]);
    await this.client.call(calls).catch(() => undefined);
  }
}

/** RFC 8620 §5.3: the `oldState`/`newState` of consecutive `Email/set` responses, kept while they chain (WriteStates). */
class StateChain {
  private first: string | null = null;
  private last: string | null = null;
  private broken = false;

  add(set: Record<string, unknown>): void {
    const { oldState, newState } = set;
    if (typeof oldState !== 'string' || typeof newState !== 'string' || (this.last !== null && oldState !== this.last)) this.broken = true;
    else { this.first ??= oldState; this.last = newState; }
  }

  result(): WriteStates | null {
    return this.broken || this.first === null || this.last === null ? null : { oldState: this.first, newState: this.last };
  }
}

/** The forward patch of one change (RFC 8620 §5.3 PatchObject; with `replace`, the whole property). */
function forward(field: PatchField, c: SetChange): Patch {
  if (c.replace !== undefined) return { [field]: toSet(c.replace) };
  const p: Patch = {};
  for (const k of c.add) p[`${field}/${pointerToken(k)}`] = true;
  for (const k of c.remove) p[`${field}/${pointerToken(k)}`] = null;
  return p;
}

/**
 * The patch that undoes what `c` really changed, given the prior members as the store gave them (keywords compare
 * case-insensitively, RFC 8621 §4.1.1). Without prior values, the plain inverse; a `replace` sets the prior set
 * back whole (nothing when unknown).
 */
function inversePatch(field: PatchField, c: SetChange, priorList: string[] | undefined): Patch {
  if (c.replace !== undefined) return priorList === undefined ? {} : { [field]: toSet(priorList) };
  const norm = (k: string) => (field === 'keywords' ? k.toLowerCase() : k);
  const prior = priorList && new Set(priorList.map(norm));
  const had = (k: string) => prior?.has(norm(k));
  const p: Patch = {};
  for (const k of c.add) if (prior === undefined || !had(k)) p[`${field}/${pointerToken(k)}`] = null;
  for (const k of c.remove) if (prior === undefined || had(k)) p[`${field}/${pointerToken(k)}`] = true;
  return p;
}

/** id -> members set to true, as the store gave them, from an `Email/get` of `field`. */
function priorValues(get: Record<string, unknown>, field: PatchField): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of (get.list ?? []) as Record<string, unknown>[]) out.set(String(e.id), trueKeys(e[field]));
  return out;
}

function toSet(keys: string[]): Record<string, true> {
  return Object.fromEntries(keys.map((k) => [k, true]));
}

function trueKeys(v: unknown): string[] {
  return v && typeof v === 'object' ? Object.entries(v).filter(([, x]) => x === true).map(([k]) => k) : [];
}

/**
 * A refused Mailbox/set (RFC 8620 §5.3 SetError). `invalidProperties` is the user's doing here, not the gateway's:
 * a refused `role` is `NO [USEATTR]` (RFC 6154 §3), a refused `name` (a sibling has it, or the store's naming
 * rules) `NO [CANNOT]`. Everything else goes through the one table (errors.ts).
 */
function mailboxSetError(e: SetError | undefined): ImapError {
  if (e?.type === 'invalidProperties' && e.properties?.includes('role')) {
    return new ImapError('NO', 'The mail store cannot give this mailbox that special use', { name: 'USEATTR' });
  }
  if (e?.type === 'invalidProperties' && e.properties?.includes('name')) return ImapError.no('The mail store refused this mailbox name', 'CANNOT');
  return jmapError(e?.type ?? 'serverFail');
}

/** A `/changes` response (RFC 8620 §5.2) -> Changes. */
function toChanges(r: Record<string, unknown>, sinceState: string): Changes {
  const ids = (k: string) => ((r[k] as string[] | undefined) ?? []).map(String);
  return {
    oldState: String(r.oldState ?? sinceState), newState: String(r.newState ?? ''),
    hasMoreChanges: r.hasMoreChanges === true, created: ids('created'), updated: ids('updated'), destroyed: ids('destroyed'),
  };
}

function toMailboxInfo(m: Record<string, unknown>): MailboxInfo {
  const rights = (m.myRights && typeof m.myRights === 'object' ? m.myRights : {}) as Partial<MailboxRights>;
  const myRights = { ...FULL_RIGHTS };
  for (const k of Object.keys(FULL_RIGHTS) as Array<keyof MailboxRights>) {
    if (typeof rights[k] === 'boolean') myRights[k] = rights[k];
  }
  return {
    id: String(m.id),
    name: String(m.name ?? ''),
    parentId: typeof m.parentId === 'string' ? m.parentId : null,
    role: typeof m.role === 'string' ? m.role.toLowerCase() : null,
    sortOrder: typeof m.sortOrder === 'number' ? m.sortOrder : 0,
    totalEmails: typeof m.totalEmails === 'number' ? m.totalEmails : 0,
    unreadEmails: typeof m.unreadEmails === 'number' ? m.unreadEmails : 0,
    isSubscribed: typeof m.isSubscribed === 'boolean' ? m.isSubscribed : true,
    myRights,
  };
}

function toEmailMeta(e: Record<string, unknown>): EmailMeta {
  return {
    id: String(e.id),
    blobId: String(e.blobId ?? ''),
    threadId: String(e.threadId ?? ''),
    mailboxIds: trueKeys(e.mailboxIds),
    keywords: trueKeys(e.keywords),
    size: typeof e.size === 'number' ? e.size : 0,
    receivedAt: String(e.receivedAt ?? ''),
  };
}
