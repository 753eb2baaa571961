/**
 * MailBackend: the narrow, id-based view of a tenant's mail store that the session layer uses.
 *
 * It speaks JMAP concepts (RFC 8621): mailboxes and emails identified by opaque string ids, keywords, blobs,
 * opaque state strings. It knows nothing of IMAP UIDs, sequence numbers, `\Deleted` or `\Recent`: those live in
 * the gateway (src/uidmap, src/session). Every method costs a small, known number of HTTP requests (DESIGN.md rule 8).
 * Every failure is thrown as an `ImapError` (src/protocol/errors.ts), e.g. `NO [UNAVAILABLE]` when the store is down.
 */
import { ImapError, type ResponseCodeName } from '../protocol/errors.ts';

/** A JMAP Mailbox (RFC 8621 §2), restricted to what IMAP needs. */
export interface MailboxInfo {
  id: string;
  name: string;
  parentId: string | null;
  /** RFC 8621 §2: IANA mailbox role in lower case (`inbox`, `sent`, `drafts`, `trash`, `junk`, `archive`, ...). */
  role: string | null;
  sortOrder: number;
  /** RFC 8621 §2 counters: not requested (costly for stores; IMAP counts come from the UID map), 0 unless present. */
  totalEmails: number;
  unreadEmails: number;
  isSubscribed: boolean;
  /** RFC 8621 §2 `myRights`; missing rights map to [READ-ONLY] / NO [NOPERM]. */
  myRights: MailboxRights;
}

export interface MailboxRights {
  mayReadItems: boolean;
  mayAddItems: boolean;
  mayRemoveItems: boolean;
  maySetSeen: boolean;
  maySetKeywords: boolean;
  mayCreateChild: boolean;
  mayRename: boolean;
  mayDelete: boolean;
  maySubmit: boolean;
}

/**
 * The immutable-plus-mutable metadata of one Email (RFC 8621 §4.1). Everything but `keywords` and `mailboxIds`
 * is immutable for a given id (RFC 8621 §4.1.1), so callers may cache it by id.
 */
export interface EmailMeta {
  id: string;
  blobId: string;
  threadId: string;
  /** Mailbox ids this email is in (JMAP label semantics). */
  mailboxIds: string[];
  /** JMAP keywords as the store returns them (RFC 8621 §4.1.1: lower case for the `$` system ones). */
  keywords: string[];
  /** RFC 8621 §4.1.1 `size`: octets of the raw message = IMAP RFC822.SIZE. */
  size: number;
  /** RFC 8621 §4.1.1 `receivedAt` (UTC date-time string) = IMAP INTERNALDATE. */
  receivedAt: string;
}

/** Result of listing the emails of one mailbox, in the order UIDs must be assigned: receivedAt ascending, then id. */
export interface MailboxListing {
  ids: string[];
  /** The JMAP Email state string this listing reflects (RFC 8620 §5.1 `state`), for later `Email/changes`. */
  emailState: string;
}

/** RFC 8620 §5.2 `/changes` result for Email or Mailbox. */
export interface Changes {
  oldState: string;
  newState: string;
  hasMoreChanges: boolean;
  created: string[];
  updated: string[];
  destroyed: string[];
}

/** RFC 8621 §2.2 `Mailbox/changes`: `updatedProperties` lists what changed when only the counters did, else null. */
export interface MailboxChanges extends Changes {
  updatedProperties: string[] | null;
}

/** A header field requested as raw text (RFC 8621 §4.1.2.1 `header:Name:asRaw`), keyed by the requested name. */
export type RawHeaders = Record<string, string[]>;

/**
 * RFC 8620 §5.3 `oldState` / `newState` of a gateway write: the Email state just before its first `Email/set` and
 * just after its last, reported only when each `Email/set` started at the state the previous one ended at. So the
 * Email changes from `oldState` to `newState` are exactly this write's (the UID map uses it: sync.ts `settleOwnWrite`).
 */
export interface WriteStates {
  oldState: string;
  newState: string;
}

/**
 * One email's keyword change (RFC 8621 §4.1.1 `keywords`): members to add and to remove (an RFC 8620 §5.3 patch of
 * `keywords/<k>`, which needs no knowledge of the current set), or with `replace` the whole new set (IMAP STORE
 * FLAGS, RFC 9051 §6.4.6: the property itself is set; `add` and `remove` are then ignored).
 */
export interface KeywordChange {
  id: string;
  add: string[];
  remove: string[];
  replace?: string[];
}

/**
 * What `updateKeywords` saw of the emails it wrote, filled in when the caller passes one: each batch's `Email/set`
 * follows an `Email/get` of the same emails in the same request (RFC 8620 §3.3: method calls run in order).
 */
export interface KeywordWriteReport {
  /** Email id -> its keywords as the store gave them (RFC 8621: usually lower case) just before the write. */
  before: Map<string, string[]>;
  /** Emails the store no longer has (RFC 8620 §5.3 SetError `notFound`): skipped, not written, not a failure. */
  missing: Set<string>;
  /**
   * True when every batch's `Email/get` `state` equals its `Email/set` `oldState` (RFC 8620 §5.1, §5.3): nothing
   * came between the read and the write, so `before` plus the patch is exactly what each email has after it. False
   * when another writer came between (or a state was not reported): `before` may be stale.
   */
  exact: boolean;
}

export interface MailBackend {
  /** The JMAP accountId this backend acts on (RFC 8620 §2 primaryAccounts for urn:ietf:params:jmap:mail). */
  readonly accountId: string;

  /** `Mailbox/get` of all mailboxes, with the Mailbox state string. One request. */
  listMailboxes(): Promise<{ state: string; mailboxes: MailboxInfo[] }>;

  /** `Email/query {inMailbox}` sorted receivedAt asc (paged under the session limits). */
  listEmailIds(mailboxId: string): Promise<MailboxListing>;

  /** `Email/get` of the metadata; chunked by `maxObjectsInGet`, batched within `maxCallsInRequest`. Missing ids are omitted. */
  getEmails(ids: string[]): Promise<EmailMeta[]>;

  /**
   * `Email/get` with `header:NAME:asRaw:all` properties: the raw (unfolded-as-stored) values of the named header
   * fields of each email, in message order. Used for BODY.PEEK[HEADER.FIELDS (...)] without downloading blobs
   * when the values are 7-bit (DESIGN.md rule 11: 8-bit headers come from the blob).
   */
  getRawHeaders(ids: string[], names: string[]): Promise<Map<string, RawHeaders>>;

  /**
   * `Email/get` of the `headers` property (RFC 8621 §4.1.3): every header field of each email in message order,
   * with its name as written and its Raw value (§4.1.2.1: the octets after the colon up to the terminating CRLF,
   * folding kept). Used for BODY.PEEK[HEADER.FIELDS (...)] without downloading the blob; callers must fall back to
   * the blob when a value is not 7-bit (the server may have replaced invalid octets).
   */
  getHeaderLists(ids: string[]): Promise<Map<string, Array<{ name: string; value: string }>>>;

  /**
   * `Email/get` of the `preview` property (RFC 8621 §4.1.4: up to 256 characters of plain text), for FETCH
   * PREVIEW (RFC 8970). One request (chunked like getEmails); missing ids are omitted.
   */
  getPreviews(ids: string[]): Promise<Map<string, string>>;

  /**
   * Metadata of `ids` plus the `headers` lists (as in `getHeaderLists`) of `headerIds` (a subset of `ids`), in as
   * few requests as the session limits allow: one for up to maxObjectsInGet x maxCallsInRequest emails.
   * `state`: the Email state (RFC 8620 §5.1) all the `Email/get` responses reported, when they agree (the
   * keywords are then known to be those of that state: ../session/keyword-cache.ts). `keywordsOnly`: the emails
   * without headers are read with `id` and `keywords` only (a FETCH FLAGS); their other fields are left empty.
   */
  getEmailsWithHeaders(ids: string[], headerIds: string[], opts?: { keywordsOnly?: boolean }): Promise<{ metas: EmailMeta[]; headers: Map<string, Array<{ name: string; value: string }>>; state?: string }>;

  /** Download a blob (RFC 8620 §6.2): the raw RFC 5322 message for an Email's blobId. */
  downloadBlob(blobId: string): Promise<Uint8Array>;

  /**
   * Many blobs in one request (RFC 9404 §4.2 `Blob/get`), when the store offers it; absent otherwise. Blobs the
   * store did not return (not found, or any error) are simply missing from the map: callers fall back to
   * `downloadBlob`. The caller bounds the total size (the octets travel as base64 in one JSON response).
   */
  downloadBlobs?(blobIds: string[]): Promise<Map<string, Uint8Array>>;

  /** `Email/changes` since a state (RFC 8620 §5.2). Throws a BackendError; test it with `isCannotCalculateChanges`. */
  emailChanges(sinceState: string, maxChanges?: number): Promise<Changes>;

  /** The current Email and Mailbox state strings (RFC 8620 §5.1), in one request: the polling probe for changes. */
  currentStates(): Promise<{ email: string; mailbox: string }>;

  /**
   * Push (RFC 8620 §7.3 EventSource): an endless sequence of pulses, one per StateChange for this account, ending
   * when `signal` aborts or the stream breaks. Null when the server has no working push (callers poll instead).
   */
  openPush(signal: AbortSignal): Promise<AsyncIterable<void> | null>;

  /** `Mailbox/changes` since a state. */
  mailboxChanges(sinceState: string): Promise<Changes>;

  /**
   * In ONE request (RFC 8620 §3.3): `Mailbox/changes` since `mailboxSince`, `Mailbox/get` of the one mailbox
   * `mailboxId` (its current name, parent and `myRights`), and, when `emailSince` is not null, `Email/changes` since
   * it (at most `maxChanges`): a SELECT validating a kept mailbox tree and starting the sync at once
   * (session/tree-cache.ts). A part whose call failed (e.g. cannotCalculateChanges, RFC 8620 §5.2) or found nothing is null.
   */
  mailboxAndEmailChanges(mailboxSince: string, mailboxId: string, emailSince: string | null, maxChanges: number): Promise<{ mailbox: MailboxChanges | null; named: MailboxInfo | null; email: Changes | null }>;

  /**
   * `Email/set` update of keywords with patches (RFC 8620 §5.3): per email, keywords to add and to remove.
   * All-or-nothing from the caller's point of view (DESIGN.md rule 10): on a partial failure the implementation
   * reverts what succeeded and throws. With `ifInState` (RFC 8620 §5.3) the first `Email/set` is refused with
   * `stateMismatch` (see `isStateMismatch`) when the Email state moved past it: RFC 7162 §3.1.3 STORE UNCHANGEDSINCE
   * uses it to detect a change racing in through JMAP. Only the first batch carries it.
   * Returns the Email states around the write (`WriteStates`) when the server reported them and its batches
   * followed one another with nothing in between; null otherwise, or when nothing needed writing.
   * With `report` (filled in, see KeywordWriteReport) emails the store no longer has are skipped instead of failing
   * the write, and the caller learns each email's keywords just before the write: STORE needs no read first.
   */
  updateKeywords(changes: KeywordChange[], opts?: { ifInState?: string; report?: KeywordWriteReport }): Promise<WriteStates | null>;

  /** `Email/set` update of mailboxIds with patches; same all-or-nothing rule, and the same `WriteStates` answer. */
  updateMailboxes(changes: Array<{ id: string; add: string[]; remove: string[] }>): Promise<WriteStates | null>;

  /**
   * `Email/set` destroy; already-destroyed ids count as done. Returns the Email states around the write
   * (`WriteStates`, as `updateKeywords`), null when not reported, not chained, or nothing to destroy.
   */
  destroyEmails(ids: string[]): Promise<WriteStates | null>;

  /**
   * `Email/query {inMailbox, notKeyword: "$seen"}` ids, all pages (IMAP UNSEEN, RFC 9051 §6.3.11; JMAP
   * `unreadEmails` also leaves out `$draft`, RFC 8621 §2, so it cannot be used).
   */
  unseenEmailIds(mailboxId: string): Promise<string[]>;

  /**
   * How many emails of the mailbox lack `$seen` (IMAP UNSEEN) without listing them: `Email/query {inMailbox,
   * notKeyword: "$seen"}` with `calculateTotal` and `limit: 0` (RFC 8620 §5.5) between two `Email/get {ids: []}` in
   * one request. Both states equal (returned as `emailState`): the count is the one at that state (a state string
   * changes with every change, RFC 8620 §5.1). null when they differ or the server gives no `total`.
   */
  unseenCount(mailboxId: string): Promise<{ count: number; emailState: string } | null>;

  /**
   * `Email/query {inMailbox, <field>: value}` ids, all pages: the store's own full-text match (RFC 8621 §4.4.1
   * `text` / `body`: how strings match is "deliberately not defined", often word-based), for the tenant option
   * SEARCH TEXT/BODY in index mode (session/policy.ts). One request when the result fits one page.
   */
  textQueryIds(mailboxId: string, field: 'text' | 'body', value: string): Promise<string[]>;

  /**
   * `Mailbox/set create` (RFC 8621 §2.5) of a chain in one request: each new mailbox is the parent of the next, the
   * first goes under `parentId`. All or nothing: when one is refused, those created are destroyed and the error
   * thrown (a refused `role` is `NO [USEATTR]`, RFC 6154 §3). Returns the new ids in order.
   */
  createMailboxes(parentId: string | null, chain: MailboxCreate[]): Promise<string[]>;

  /** `Mailbox/set update` of one mailbox (RENAME, SUBSCRIBE / UNSUBSCRIBE). */
  updateMailbox(id: string, patch: MailboxPatch): Promise<void>;

  /**
   * `Mailbox/set destroy` in the order given (children first), with `onDestroyRemoveEmails` (RFC 8621 §2.5: the
   * mailbox leaves each email's `mailboxIds`; emails left in no mailbox are destroyed), as IMAP DELETE does.
   */
  destroyMailboxes(ids: string[], removeEmails: boolean): Promise<void>;

  /** Blob upload + `Email/import` (RFC 8621 §4.8) into the given mailboxes with keywords and receivedAt. */
  importEmail(raw: Uint8Array, mailboxIds: string[], keywords: string[], receivedAt?: string): Promise<EmailMeta>;

  /** Blob upload (RFC 8620 §6.1) of a raw message: one request; `NO [TOOBIG]` above `maxSizeUpload`. Returns the blobId. */
  uploadBlob(raw: Uint8Array): Promise<string>;

  /**
   * A single-message APPEND in ONE request (RFC 8620 §3.3), when the store takes uploads inside API requests (RFC 9404
   * §4.1 `Blob/upload`) and can digest blobs (RFC 9404 §4.2, for the read-back): `Mailbox/changes` since
   * `mailboxState` and `Mailbox/get` of the destination (is the caller's kept tree still current?), `Blob/upload` of
   * `raw`, and `Email/import` of that blob by its creation id (`#b`: RFC 9404 §4.1 adds Blob/upload's creation ids to
   * the request's createdIds, RFC 8620 §5.3). The import happens whatever the mailbox changes say: the caller undoes
   * it when they show the destination may be another mailbox now (session/commands/append.ts).
   * An outcome that is unknown (timeout, dropped connection) is read back by the blob's digest in the destination
   * (jmap/import-readback.ts; `known`: email ids the caller already has there), never imported twice.
   * Null: not possible here (no Blob/upload or digest, or too large for one request); nothing was sent.
   */
  importInOne?(raw: Uint8Array, email: OneImportArgs, mailboxState: string, opts?: { known?: () => Promise<Set<string>> }): Promise<OneImport | null>;

  /**
   * `Email/import` (RFC 8621 §4.8) of blobs already on the server (uploaded APPEND messages, or an existing
   * Email's blobId when COPY needs a second email), all in one request (chunked by `maxObjectsInSet`). Returns the
   * Email ids in order. All-or-nothing (DESIGN.md rule 10): when any is refused, the ones created are destroyed
   * and the first error is thrown. A server refusing a duplicate (`alreadyExists` + `existingId`) gets the
   * existing email added to the mailboxes instead, and its id returned.
   * When the outcome is unknown (timeout, dropped connection: `NO [UNAVAILABLE]`), the store is read back first
   * (jmap/import-readback.ts) and only the imports not found are sent again, once; `known` gives the email ids
   * the caller already has in the destinations (never taken for a new import; asked only then).
   * `onStates` is told the RFC 8621 §4.8 `oldState`/`newState` around the whole write (`WriteStates`: the chained
   * `Email/import` responses), or null when not told, when other writes were needed (duplicates placed, a read-back)
   * or the imports did not chain.
   */
  importBlobs(emails: BlobImport[], opts?: { known?: () => Promise<Set<string>>; onStates?: (states: WriteStates | null) => void }): Promise<string[]>;

  /** Facts of the JMAP session (RFC 8620 §2) that shape what is advertised after login; no request (cached at connect). */
  serverInfo(): BackendInfo;

  /**
   * RFC 9425 §4.1 `Quota/get` of all the account's quotas that apply to mail (`types` holds `Mail`, or is empty):
   * one request. Null when the server does not offer `urn:ietf:params:jmap:quota` (no request then).
   */
  getQuotas(): Promise<QuotaInfo[] | null>;

  /**
   * RFC 8620 §2: the session's other accounts with mail (`isPersonal: false`: shared with this user), each with a
   * backend bound to it (same client and credential; JMAP ids are per account). No request (session cached at
   * connect). Absent: the backend knows only its own account.
   */
  otherAccounts?(): OtherAccount[];
}

/** An account shared with the user (RFC 8620 §2 Account with `isPersonal: false`). */
export interface OtherAccount {
  accountId: string;
  /** RFC 8620 §2 Account `name` (a store names it after its owner, e.g. `alice@example.com`). */
  name: string;
  /** RFC 8620 §2 `isReadOnly`: every write is refused (IMAP: SELECT gives [READ-ONLY], writes NO [NOPERM]). */
  readOnly: boolean;
  backend: MailBackend;
}

/** What the gateway needs to know of the backend's session (RFC 8620 §2). */
export interface BackendInfo {
  /** The JMAP Session resource URL (RFC 8620 §2), as served after redirects: the RFC 9698 JMAPACCESS answer. */
  sessionUrl: string;
  /** RFC 8620 §2 `maxSizeUpload` (octets): the largest message APPEND can upload (RFC 7889 APPENDLIMIT). */
  maxSizeUpload: number;
  /** The server offers `urn:ietf:params:jmap:quota` (RFC 9425 §2) for this account: IMAP QUOTA (RFC 9208) works. */
  quota: boolean;
  /** RFC 8620 §2 session `state` (changes with the user's accounts and shares): part of cache keys. */
  sessionState?: string;
}

/** One JMAP Quota (RFC 9425 §4.1), the parts IMAP QUOTA (RFC 9208) shows. */
export interface QuotaInfo {
  id: string;
  /** RFC 9425 §4.1 `name`: shown as the IMAP quota root (RFC 9208 §3.2). */
  name: string;
  /** RFC 9425 §4.1 `resourceType`: `octets` -> STORAGE (RFC 9208 §5.1), `count` -> MESSAGE (§5.2). */
  resourceType: 'octets' | 'count';
  /** RFC 9425 §4.1 `used` and `hardLimit`, in octets or messages. */
  used: number;
  hardLimit: number;
}

/** A mailbox to create (RFC 8621 §2.1 properties the gateway sets); the server's defaults for the rest. */
export interface MailboxCreate {
  name: string;
  /** RFC 8621 §2.1 role (lower case), from CREATE `(USE (...))` (RFC 6154 §3). */
  role?: string;
}

/** A change to one mailbox (RFC 8621 §2.1 settable properties). */
export interface MailboxPatch {
  name?: string;
  parentId?: string | null;
  isSubscribed?: boolean;
}

/** One Email to create from a blob (RFC 8621 §4.8 EmailImport). */
export interface BlobImport {
  blobId: string;
  mailboxIds: string[];
  keywords: string[];
  /** UTCDate (RFC 8620 §1.4); the server's now when absent. */
  receivedAt?: string;
}

/** The one email of `MailBackend.importInOne`: a `BlobImport` without the blob, with its `receivedAt` (for a read-back). */
export type OneImportArgs = Omit<BlobImport, 'blobId'> & { receivedAt: string };

/** What `MailBackend.importInOne` did. */
export interface OneImport {
  /** RFC 8621 §2.2 Mailbox changes since the caller's state; null when the store could not tell (or the outcome was unknown). */
  mailbox: MailboxChanges | null;
  /** The destination as read in the same request, before the import (null: not found, or not told). */
  named: MailboxInfo | null;
  /** The uploaded blob (for importing it again elsewhere), null when not known. */
  blobId: string | null;
  /** The created email; null when nothing was created (`error` says why, or the store asks for the usual import). */
  emailId: string | null;
  /** RFC 8621 §4.8 `oldState`/`newState` of the `Email/import`; null when not told. */
  states: WriteStates | null;
  /**
   * The store's refusal of the upload or the import. Null with no `emailId`: import `blobId` the usual way
   * (`importBlobs`: e.g. a duplicate refused with `alreadyExists`, or a read-back that found nothing).
   */
  error: ImapError | null;
}

/**
 * An `ImapError` that also says which JMAP error caused it (RFC 8620 §3.6.1 request-level `type` URN suffix,
 * §3.6.2 method-level `type`, or §5.3 SetError `type`), so callers can react to specific ones.
 */
export class BackendError extends ImapError {
  constructor(kind: 'NO' | 'BAD' | 'BYE', text: string, code: ResponseCodeName | undefined, readonly jmapType: string) {
    super(kind, text, code ? { name: code } : undefined);
  }
}

/** True when a `/set` with `ifInState` was refused because the state moved (RFC 8620 §5.3 stateMismatch). */
export function isStateMismatch(err: unknown): boolean {
  return err instanceof BackendError && err.jmapType === 'stateMismatch';
}

/** True when an error thrown by `emailChanges`/`mailboxChanges` means the state is too old (RFC 8620 §5.2). */
export function isCannotCalculateChanges(err: unknown): boolean {
  return err instanceof BackendError && err.jmapType === 'cannotCalculateChanges';
}
