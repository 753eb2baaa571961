/**
 * Data access of the embedded store: users, mailboxes, blobs and emails, each mutation in one SQLite transaction
 * that also writes the change log, so Mailbox counters (RFC 8621 §2.1) and states are always consistent.
 */
import { createHash } from 'node:crypto';
import { type Db, nextCounter } from './db.ts';
import { ChangeLog } from './changes.ts';
import { hashPassword, verifyPassword } from './password.ts';
import { type ParsedEmail, baseSubject, bodyText, hasAttachment, parseEmail, partBytes, preview, subjectText } from './email-view.ts';
import { addressesForm, dateForm, messageIdsForm } from './header-forms.ts';

export interface UserRow { username: string; account_id: string }
/** RFC 9425 §4.1 resourceType. */
export type QuotaResource = 'octets' | 'count';
/** A Mailbox row (RFC 8621 §2.1 stored properties). */
export interface MailboxRow {
  id: string; account_id: string; name: string; parent_id: string | null; role: string | null;
  sort_order: number; is_subscribed: number;
}
/** An Email row: immutable derived data of RFC 8621 §4.1 kept for listing, sorting and search. */
export interface EmailRow {
  id: string; account_id: string; blob_id: string; thread_id: string; size: number; received_at: number;
  sent_at: number | null; has_attachment: number; preview: string; subject_sort: string; from_sort: string;
  to_sort: string; search_from: string; search_to: string; search_cc: string; search_bcc: string;
  search_subject: string; search_body: string;
}
/** An Email row without its search text (what Email/get and the existence checks read). */
export type EmailMetaRow = Pick<EmailRow, 'id' | 'account_id' | 'blob_id' | 'thread_id' | 'size' | 'received_at' | 'sent_at' | 'has_attachment' | 'preview'>;

/** The standard mailboxes of a new account (RFC 8621 §2 roles, from the IANA registry of RFC 8457/6154). */
export const STANDARD_MAILBOXES: { name: string; role: string }[] = [
  { name: 'Inbox', role: 'inbox' }, { name: 'Sent', role: 'sent' }, { name: 'Drafts', role: 'drafts' },
  { name: 'Trash', role: 'trash' }, { name: 'Junk', role: 'junk' }, { name: 'Archive', role: 'archive' },
];

/** RFC 8621 §4.1.1 keyword syntax: %x21-7e except ( ) { ] % * " \ . */
export const validKeyword = (k: string) => /^[\x21-\x7e]{1,255}$/.test(k) && !/[(){\]%*"\\]/.test(k);

export class Repo {
  private parsedCache = new Map<string, ParsedEmail>();
  constructor(readonly db: Db, readonly log: ChangeLog) {}

  tx<T>(fn: () => T): T { return this.db.transaction(fn)(); }
  /**
   * A transaction fsynced at commit (SQLite `synchronous = FULL` for it; db.ts): for new messages. In WAL mode that
   * fsync also makes every earlier commit durable. Nested in another transaction it is a savepoint of that one.
   */
  durableTx<T>(fn: () => T): T {
    if (this.db.inTransaction) return this.tx(fn);
    this.db.pragma('synchronous = FULL');
    try { return this.tx(fn); } finally { this.db.pragma('synchronous = NORMAL'); }
  }

  // ---- users --------------------------------------------------------------------------------------------
  user(username: string): UserRow | undefined {
    return this.db.prepare('SELECT username, account_id FROM users WHERE username = ?').get(username) as UserRow | undefined;
  }
  checkPassword(username: string, password: string): UserRow | undefined {
    const row = this.db.prepare('SELECT username, account_id, salt, hash FROM users WHERE username = ?').get(username) as
      (UserRow & { salt: Buffer; hash: Buffer }) | undefined;
    return row && verifyPassword(password, row.salt, row.hash) ? { username: row.username, account_id: row.account_id } : undefined;
  }
  createUser(username: string, password: string): UserRow {
    return this.tx(() => {
      const existing = this.user(username);
      if (existing) return existing;
      const accountId = `a${nextCounter(this.db, 'account')}`;
      const { salt, hash } = hashPassword(password);
      this.db.prepare('INSERT INTO users (username, account_id, salt, hash) VALUES (?, ?, ?, ?)').run(username, accountId, salt, hash);
      STANDARD_MAILBOXES.forEach((m, i) => this.createMailbox(accountId, { name: m.name, parentId: null, role: m.role,
        sortOrder: i === 0 ? 1 : 10 + i, isSubscribed: true }));
      return { username, account_id: accountId };
    });
  }

  // ---- sharing (RFC 8620 §2 accounts with isPersonal false) ------------------------------------------------
  /** Grants `username` access to the account (read-only or read-write); replaces an earlier grant. */
  shareAccount(accountId: string, username: string, readOnly: boolean): void {
    this.db.prepare(`INSERT INTO shares (account_id, username, read_only) VALUES (?, ?, ?)
      ON CONFLICT(account_id, username) DO UPDATE SET read_only = excluded.read_only`).run(accountId, username, readOnly ? 1 : 0);
  }
  /** The accounts shared with `username`: owner's username (the account's `name`), accountId, read-only. */
  sharedWith(username: string): Array<{ account_id: string; owner: string; read_only: number }> {
    return this.db.prepare(`SELECT s.account_id, u.username AS owner, s.read_only FROM shares s
      JOIN users u ON u.account_id = s.account_id WHERE s.username = ? ORDER BY u.username`).all(username) as
      Array<{ account_id: string; owner: string; read_only: number }>;
  }
  /** What `user` may do in an account: its own (`owner`), shared read-write or read-only, or nothing (null). */
  access(user: UserRow, accountId: string): 'owner' | 'rw' | 'ro' | null {
    if (accountId === user.account_id) return 'owner';
    const row = this.db.prepare('SELECT read_only FROM shares WHERE account_id = ? AND username = ?').get(accountId, user.username) as
      { read_only: number } | undefined;
    return row === undefined ? null : row.read_only ? 'ro' : 'rw';
  }

  // ---- mailboxes ----------------------------------------------------------------------------------------
  mailboxes(accountId: string): MailboxRow[] {
    return this.db.prepare('SELECT * FROM mailboxes WHERE account_id = ? ORDER BY sort_order, name, id').all(accountId) as MailboxRow[];
  }
  mailbox(accountId: string, id: string): MailboxRow | undefined {
    return this.db.prepare('SELECT * FROM mailboxes WHERE account_id = ? AND id = ?').get(accountId, id) as MailboxRow | undefined;
  }
  /** Finds a mailbox by role, then by name (case-insensitive for INBOX), then by `a/b` path. */
  findMailbox(accountId: string, roleOrName: string): MailboxRow | undefined {
    const all = this.mailboxes(accountId);
    const lc = roleOrName.toLowerCase();
    const path = (m: MailboxRow): string => {
      const parent = m.parent_id ? all.find((x) => x.id === m.parent_id) : undefined;
      return parent ? `${path(parent)}/${m.name}` : m.name;
    };
    return all.find((m) => m.role === lc) ?? all.find((m) => m.name === roleOrName) ?? all.find((m) => path(m) === roleOrName)
      ?? (lc === 'inbox' ? all.find((m) => m.name.toLowerCase() === 'inbox') : undefined);
  }
  /** Server-computed counters (RFC 8621 §2.1 totalEmails, unreadEmails, totalThreads, unreadThreads). */
  mailboxCounts(mailboxId: string): { totalEmails: number; unreadEmails: number; totalThreads: number; unreadThreads: number } {
    return this.db.prepare(`SELECT COUNT(*) AS totalEmails,
        COALESCE(SUM(CASE WHEN k.email_id IS NULL THEN 1 ELSE 0 END), 0) AS unreadEmails,
        COUNT(DISTINCT e.thread_id) AS totalThreads,
        COUNT(DISTINCT CASE WHEN k.email_id IS NULL THEN e.thread_id END) AS unreadThreads
      FROM email_mailboxes em JOIN emails e ON e.id = em.email_id
      LEFT JOIN email_keywords k ON k.email_id = e.id AND k.keyword = '$seen'
      WHERE em.mailbox_id = ?`).get(mailboxId) as { totalEmails: number; unreadEmails: number; totalThreads: number; unreadThreads: number };
  }
  createMailbox(accountId: string, m: { name: string; parentId: string | null; role: string | null; sortOrder: number; isSubscribed: boolean }): string {
    const id = `P${nextCounter(this.db, 'mailbox')}`;
    this.db.prepare(`INSERT INTO mailboxes (id, account_id, name, parent_id, role, sort_order, is_subscribed)
      VALUES (?, ?, ?, ?, ?, ?, ?)`).run(id, accountId, m.name, m.parentId, m.role, m.sortOrder, m.isSubscribed ? 1 : 0);
    this.log.record(accountId, 'Mailbox', id, 'created');
    return id;
  }
  updateMailbox(accountId: string, id: string, m: Partial<{ name: string; parentId: string | null; role: string | null; sortOrder: number; isSubscribed: boolean }>): void {
    const cur = this.mailbox(accountId, id)!;
    this.db.prepare(`UPDATE mailboxes SET name = ?, parent_id = ?, role = ?, sort_order = ?, is_subscribed = ? WHERE id = ?`)
      .run(m.name ?? cur.name, m.parentId !== undefined ? m.parentId : cur.parent_id, m.role !== undefined ? m.role : cur.role,
        m.sortOrder ?? cur.sort_order, m.isSubscribed !== undefined ? (m.isSubscribed ? 1 : 0) : cur.is_subscribed, id);
    this.log.record(accountId, 'Mailbox', id, 'updated');
  }
  destroyMailbox(accountId: string, id: string): void {
    for (const emailId of this.emailIdsInMailbox(id)) {
      const boxes = this.mailboxIdsOf(emailId).filter((b) => b !== id);
      if (boxes.length === 0) this.destroyEmail(accountId, emailId);
      else this.setMailboxes(accountId, emailId, boxes);
    }
    this.db.prepare('DELETE FROM mailboxes WHERE id = ?').run(id);
    this.log.record(accountId, 'Mailbox', id, 'destroyed');
  }
  emailIdsInMailbox(mailboxId: string): string[] {
    return (this.db.prepare('SELECT email_id FROM email_mailboxes WHERE mailbox_id = ?').all(mailboxId) as { email_id: string }[]).map((r) => r.email_id);
  }

  // ---- blobs --------------------------------------------------------------------------------------------
  /** Stores bytes as a blob; the id is derived from a SHA-256 of the content (RFC 8620 §6). */
  putBlob(accountId: string, data: Uint8Array, type: string): { blobId: string; size: number } {
    const blobId = `G${createHash('sha256').update(data).digest('hex').slice(0, 40)}`;
    this.db.prepare('INSERT OR IGNORE INTO blobs (account_id, id, type, data, created) VALUES (?, ?, ?, ?, ?)')
      .run(accountId, blobId, type, data, Date.now());
    return { blobId, size: data.length };
  }
  /** Bytes of a blob or of a message part blob (`<blobId>_<partId>`). */
  getBlob(accountId: string, blobId: string): { data: Uint8Array; type: string } | null {
    const row = this.db.prepare('SELECT data, type FROM blobs WHERE account_id = ? AND id = ?').get(accountId, blobId) as
      { data: Buffer; type: string } | undefined;
    if (row) return { data: new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.length), type: row.type };
    const m = /^(G[0-9a-f]+)_(\d+)$/.exec(blobId);
    if (!m) return null;
    const parsed = this.parsedBlob(accountId, m[1]!);
    const part = parsed && partBytes(parsed, m[2]!);
    return part ? { data: part.bytes, type: part.type } : null;
  }
  /** A message blob parsed once and cached (blobs are immutable). */
  parsedBlob(accountId: string, blobId: string): ParsedEmail | null {
    const key = `${accountId}/${blobId}`;
    const hit = this.parsedCache.get(key);
    if (hit) { this.parsedCache.delete(key); this.parsedCache.set(key, hit); return hit; }
    const row = this.db.prepare('SELECT data FROM blobs WHERE account_id = ? AND id = ?').get(accountId, blobId) as { data: Buffer } | undefined;
    if (!row) return null;
    const parsed = parseEmail(new Uint8Array(row.data.buffer, row.data.byteOffset, row.data.length));
    this.parsedCache.set(key, parsed);
    if (this.parsedCache.size > 256) this.parsedCache.delete(this.parsedCache.keys().next().value!);
    return parsed;
  }

  // ---- emails -------------------------------------------------------------------------------------------
  /** One Email's row without the search columns (the whole body text: copying it was the store's top cost per Email/get). */
  email(accountId: string, id: string): EmailMetaRow | undefined {
    return this.db.prepare(`SELECT id, account_id, blob_id, thread_id, size, received_at, sent_at, has_attachment, preview
      FROM emails WHERE account_id = ? AND id = ?`).get(accountId, id) as EmailMetaRow | undefined;
  }
  emails(accountId: string): EmailRow[] {
    return this.db.prepare('SELECT * FROM emails WHERE account_id = ?').all(accountId) as EmailRow[];
  }
  mailboxIdsOf(emailId: string): string[] {
    return (this.db.prepare('SELECT mailbox_id FROM email_mailboxes WHERE email_id = ? ORDER BY mailbox_id').all(emailId) as { mailbox_id: string }[]).map((r) => r.mailbox_id);
  }
  keywordsOf(emailId: string): string[] {
    return (this.db.prepare('SELECT keyword FROM email_keywords WHERE email_id = ? ORDER BY keyword').all(emailId) as { keyword: string }[]).map((r) => r.keyword);
  }
  /** All mailbox memberships and keywords of an account, for query evaluation. */
  membership(accountId: string): { mailboxes: Map<string, string[]>; keywords: Map<string, string[]> } {
    const mailboxes = new Map<string, string[]>(), keywords = new Map<string, string[]>();
    for (const r of this.db.prepare(`SELECT em.email_id AS e, em.mailbox_id AS v FROM email_mailboxes em
        JOIN emails x ON x.id = em.email_id WHERE x.account_id = ?`).all(accountId) as { e: string; v: string }[]) {
      mailboxes.set(r.e, [...(mailboxes.get(r.e) ?? []), r.v]);
    }
    for (const r of this.db.prepare(`SELECT k.email_id AS e, k.keyword AS v FROM email_keywords k
        JOIN emails x ON x.id = k.email_id WHERE x.account_id = ?`).all(accountId) as { e: string; v: string }[]) {
      keywords.set(r.e, [...(keywords.get(r.e) ?? []), r.v]);
    }
    return { mailboxes, keywords };
  }
  /** Thread emails sorted by receivedAt, oldest first, then id (RFC 8621 §3). */
  threadEmailIds(threadId: string): string[] {
    return (this.db.prepare('SELECT id FROM emails WHERE thread_id = ? ORDER BY received_at, length(id), id').all(threadId) as { id: string }[]).map((r) => r.id);
  }

  /** Creates an Email from a stored blob (RFC 8621 §4.8 Email/import); runs inside the caller's transaction. */
  createEmail(accountId: string, blobId: string, mailboxIds: string[], keywords: string[], receivedAt: number): EmailRow {
    const parsed = this.parsedBlob(accountId, blobId);
    if (!parsed) throw new Error('blob not found');
    const id = `M${nextCounter(this.db, 'email')}`;
    const threadId = this.assignThread(accountId, parsed);
    const row = summarize(parsed, { id, account_id: accountId, blob_id: blobId, thread_id: threadId, received_at: receivedAt });
    this.db.prepare(`INSERT INTO emails (id, account_id, blob_id, thread_id, size, received_at, sent_at, has_attachment,
        preview, subject_sort, from_sort, to_sort, search_from, search_to, search_cc, search_bcc, search_subject, search_body)
      VALUES (@id, @account_id, @blob_id, @thread_id, @size, @received_at, @sent_at, @has_attachment, @preview,
        @subject_sort, @from_sort, @to_sort, @search_from, @search_to, @search_cc, @search_bcc, @search_subject, @search_body)`).run(row);
    for (const k of new Set(keywords.map((k) => k.toLowerCase()))) this.db.prepare('INSERT INTO email_keywords VALUES (?, ?)').run(id, k);
    for (const m of new Set(mailboxIds)) {
      this.db.prepare('INSERT INTO email_mailboxes VALUES (?, ?)').run(id, m);
      this.log.record(accountId, 'Mailbox', m, 'counts');
    }
    this.log.record(accountId, 'Email', id, 'created');
    this.log.record(accountId, 'Thread', threadId, this.threadEmailIds(threadId).length === 1 ? 'created' : 'updated');
    return row;
  }

  /** Thread by Message-ID / In-Reply-To / References (simple union of known ids), else a new thread. */
  private assignThread(accountId: string, p: ParsedEmail): string {
    const ids = new Set<string>();
    for (const h of p.headers) {
      const n = h.name.toLowerCase();
      if (n === 'message-id' || n === 'in-reply-to' || n === 'references') for (const id of messageIdsForm(h.value) ?? []) ids.add(id);
    }
    let threadId: string | undefined;
    for (const mid of ids) {
      const r = this.db.prepare(`SELECT t.thread_id FROM thread_refs t WHERE t.account_id = ? AND t.message_id = ?
        AND EXISTS (SELECT 1 FROM emails e WHERE e.thread_id = t.thread_id)`).get(accountId, mid) as { thread_id: string } | undefined;
      if (r) { threadId = r.thread_id; break; }
    }
    threadId ??= `T${nextCounter(this.db, 'thread')}`;
    for (const mid of ids) this.db.prepare(`INSERT INTO thread_refs (account_id, message_id, thread_id) VALUES (?, ?, ?)
      ON CONFLICT(account_id, message_id) DO UPDATE SET thread_id = excluded.thread_id
      WHERE NOT EXISTS (SELECT 1 FROM emails e WHERE e.thread_id = thread_refs.thread_id)`).run(accountId, mid, threadId);
    return threadId;
  }

  /** Replaces the keyword set (lower-cased, RFC 8621 §4.1.1); records Mailbox counter changes if $seen flips. */
  setKeywords(accountId: string, emailId: string, keywords: string[]): void {
    const before = new Set(this.keywordsOf(emailId));
    const after = new Set(keywords.map((k) => k.toLowerCase()));
    if (before.size === after.size && [...after].every((k) => before.has(k))) return;
    this.db.prepare('DELETE FROM email_keywords WHERE email_id = ?').run(emailId);
    for (const k of after) this.db.prepare('INSERT INTO email_keywords VALUES (?, ?)').run(emailId, k);
    this.log.record(accountId, 'Email', emailId, 'updated');
    if (before.has('$seen') !== after.has('$seen')) for (const m of this.mailboxIdsOf(emailId)) this.log.record(accountId, 'Mailbox', m, 'counts');
  }

  /** Replaces the mailbox set (RFC 8621 §4.1.1 mailboxIds); counters of added and removed mailboxes change. */
  setMailboxes(accountId: string, emailId: string, mailboxIds: string[]): void {
    const before = new Set(this.mailboxIdsOf(emailId));
    const after = new Set(mailboxIds);
    const changed = [...before].filter((m) => !after.has(m)).concat([...after].filter((m) => !before.has(m)));
    if (changed.length === 0) return;
    this.db.prepare('DELETE FROM email_mailboxes WHERE email_id = ?').run(emailId);
    for (const m of after) this.db.prepare('INSERT INTO email_mailboxes VALUES (?, ?)').run(emailId, m);
    this.log.record(accountId, 'Email', emailId, 'updated');
    for (const m of changed) this.log.record(accountId, 'Mailbox', m, 'counts');
  }

  // ---- quotas (RFC 9425) -----------------------------------------------------------------------------------
  /** Sets (a number) or removes (null) the account's hard limit on one resource type. */
  setQuota(accountId: string, resource: QuotaResource, hardLimit: number | null): void {
    if (hardLimit === null) this.db.prepare('DELETE FROM quotas WHERE account_id = ? AND resource = ?').run(accountId, resource);
    else this.db.prepare(`INSERT INTO quotas (account_id, resource, hard_limit) VALUES (?, ?, ?)
      ON CONFLICT(account_id, resource) DO UPDATE SET hard_limit = excluded.hard_limit`).run(accountId, resource, hardLimit);
  }
  /** The account's quotas with their usage: octets = sum of Email sizes, count = number of Emails. */
  quotas(accountId: string): Array<{ resource: QuotaResource; hardLimit: number; used: number }> {
    const rows = this.db.prepare('SELECT resource, hard_limit FROM quotas WHERE account_id = ? ORDER BY resource').all(accountId) as
      { resource: QuotaResource; hard_limit: number }[];
    if (rows.length === 0) return [];
    const u = this.db.prepare('SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS octets FROM emails WHERE account_id = ?').get(accountId) as
      { n: number; octets: number };
    return rows.map((r) => ({ resource: r.resource, hardLimit: r.hard_limit, used: r.resource === 'count' ? u.n : u.octets }));
  }
  /** True when one more Email of `size` octets would exceed a quota (RFC 9425 §4.1 hardLimit; RFC 8620 §5.3 overQuota). */
  wouldExceedQuota(accountId: string, size: number): boolean {
    return this.quotas(accountId).some((q) => q.used + (q.resource === 'count' ? 1 : size) > q.hardLimit);
  }

  destroyEmail(accountId: string, emailId: string): void {
    const row = this.email(accountId, emailId);
    if (!row) return;
    const boxes = this.mailboxIdsOf(emailId);
    this.db.prepare('DELETE FROM email_mailboxes WHERE email_id = ?').run(emailId);
    this.db.prepare('DELETE FROM email_keywords WHERE email_id = ?').run(emailId);
    this.db.prepare('DELETE FROM emails WHERE id = ?').run(emailId);
    this.log.record(accountId, 'Email', emailId, 'destroyed');
    for (const m of boxes) this.log.record(accountId, 'Mailbox', m, 'counts');
    this.log.record(accountId, 'Thread', row.thread_id, this.threadEmailIds(row.thread_id).length === 0 ? 'destroyed' : 'updated');
  }
}

const lower = (s: string) => s.normalize('NFC').toLowerCase();
const lastValue = (p: ParsedEmail, name: string) => p.headers.filter((h) => h.name.toLowerCase() === name).at(-1)?.value;
const addrText = (p: ParsedEmail, name: string) => p.headers.filter((h) => h.name.toLowerCase() === name)
  .flatMap((h) => addressesForm(h.value)).map((a) => `${a.name ?? ''} <${a.email}>`).join(', ');
const sortKey = (p: ParsedEmail, name: string) => {
  const raw = lastValue(p, name);
  const first = raw === undefined ? undefined : addressesForm(raw)[0];
  return lower(first ? first.name || first.email : '');
};

/** Derived columns of an Email row (sizes, dates, sort keys, lower-cased search text). */
function summarize(p: ParsedEmail, base: Pick<EmailRow, 'id' | 'account_id' | 'blob_id' | 'thread_id' | 'received_at'>): EmailRow {
  const date = lastValue(p, 'date');
  const sent = date === undefined ? null : dateForm(date);
  const subject = subjectText(p);
  return { ...base, size: p.raw.length, sent_at: sent ? Date.parse(sent) : null, has_attachment: hasAttachment(p) ? 1 : 0,
    preview: preview(p), subject_sort: baseSubject(subject), from_sort: sortKey(p, 'from'), to_sort: sortKey(p, 'to'),
    search_from: lower(addrText(p, 'from')), search_to: lower(addrText(p, 'to')), search_cc: lower(addrText(p, 'cc')),
    search_bcc: lower(addrText(p, 'bcc')), search_subject: lower(subject), search_body: lower(bodyText(p)).slice(0, 1 << 20) };
}
