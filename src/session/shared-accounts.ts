/**
 * Routing of mailbox names to JMAP accounts: the user's own account (the personal namespace, prefix "") and the
 * accounts shared with the user (RFC 8620 §2 `accounts` with `isPersonal: false`) as the other-users namespace
 * `Other Users/` (RFC 2342 §5, RFC 9051 §6.3.10).
 *
 * A shared account appears as `Other Users/<account name>/<mailbox path>`, its inbox as `Other Users/<name>/INBOX`.
 * `Other Users` and `Other Users/<name>` are not mailboxes: `\Noselect \HasChildren` (RFC 9051 §7.3.1; RFC 2342
 * §5: the level after the prefix names the user, and LIST "Other Users/%" lists those who granted access). Each shared account gets an AccountContext of its own: a backend bound to its accountId
 * (same client and credential) and a UID-store key `tenant/<its accountId>`, never the user's, so every user that
 * reaches the account sees the same UIDs. A mailbox of a shared account carries that context (ImapMailbox.account);
 * selecting it makes it the session's `account` (Session.account) for the selected-state commands.
 *
 * Round trips: a name outside `Other Users/` costs what it did (one `Mailbox/get` of the own account); a name
 * inside costs one `Mailbox/get` of that one account (SELECT and STATUS: none once that account's tree is kept,
 * tree-cache.ts, whose one request then also starts the sync); LIST asks each shared account only when its pattern
 * can match inside `Other Users`.
 *
 * Limits: the accounts are those of the JMAP session at login (a share granted later shows at the next login);
 * mailboxes there are not created, renamed or deleted over IMAP (NO [NOPERM]); LSUB lists the personal namespace
 * only; while the namespace exists, a personal mailbox named `Other Users` is hidden behind it.
 */
import type { MailboxRights, OtherAccount } from '../backend/backend.ts';
import type { AccountContext } from './context.ts';
import { DELIMITER, buildNamespace, normalizeMailboxName, type ImapMailbox } from './mailboxes.ts';
import type { Session } from './session.ts';

/** RFC 2342 §5: the prefix of the other-users namespace (its example uses `~` or `#Users/`; any prefix is valid). */
export const OTHER_USERS = 'Other Users';
export const OTHER_USERS_PREFIX = OTHER_USERS + DELIMITER;

/** Rights of the two upper levels, which are not mailboxes (RFC 8621 §2.1 MailboxRights, all false). */
const NO_RIGHTS: MailboxRights = {
  mayReadItems: false, mayAddItems: false, mayRemoveItems: false, maySetSeen: false, maySetKeywords: false,
  mayCreateChild: false, mayRename: false, mayDelete: false, maySubmit: false,
};

/** A shared account as the session routes to it. */
export interface SharedAccount {
  /** The `Other Users/` level naming it: the RFC 8620 §2 Account `name` (`/` shown as U+2215, as in mailboxes.ts). */
  level: string;
  readOnly: boolean;
  context: AccountContext;
}

/** Built once per logged-in account (the contexts must stay the same objects: Session.account compares them). */
const cache = new WeakMap<AccountContext, SharedAccount[]>();
/** Contexts of accounts the JMAP session marks `isReadOnly` (RFC 8620 §2). */
const readOnlyContexts = new WeakSet<AccountContext>();

/** The accounts shared with the user, in the order the JMAP session lists them. */
export function sharedAccounts(home: AccountContext): SharedAccount[] {
  let list = cache.get(home);
  if (!list) {
    const slash = home.accountKey.lastIndexOf('/'); // `tenant/accountId` (auth/jmap-basic.ts, auth/tenants.ts)
    const tenant = slash >= 0 ? home.accountKey.slice(0, slash + 1) : '';
    const taken = new Set<string>();
    list = (home.backend.otherAccounts?.() ?? []).map((a: OtherAccount) => ({
      level: uniqueLevel(a, taken),
      readOnly: a.readOnly,
      context: { username: home.username, accountKey: tenant + a.accountId, backend: a.backend, ...(home.policy ? { policy: home.policy } : {}) },
    }));
    cache.set(home, list);
    for (const a of list) if (a.readOnly) readOnlyContexts.add(a.context);
  }
  return list;
}

/**
 * The level naming an account: its `name` (RFC 8620 §2 says nothing of uniqueness), else its id; a name already
 * taken by an earlier account gets the accountId appended, so every level names one account.
 */
function uniqueLevel(a: OtherAccount, taken: Set<string>): string {
  let level = (a.name || a.accountId).replaceAll(DELIMITER, '\u2215');
  if (taken.has(level)) level = `${level} (${a.accountId})`;
  taken.add(level);
  return level;
}

/** The mailbox lives in an account shared read-only with the user (RFC 8620 §2 isReadOnly). */
export function inReadOnlyAccount(m: ImapMailbox): boolean {
  return m.account !== undefined && readOnlyContexts.has(m.account);
}

/** The session has an other-users namespace (NAMESPACE announces it, RFC 2342 §5). */
export function hasOtherUsers(s: Session): boolean {
  return s.home !== null && sharedAccounts(s.home).length > 0;
}

/** The account holding a mailbox: its shared account, else the user's own. */
export function accountOf(s: Session, m: ImapMailbox): AccountContext {
  return m.account ?? s.home!;
}

/** A name at or under `Other Users` (where only shared accounts live while the namespace exists). */
export function inOtherUsers(s: Session, name: string): boolean {
  return hasOtherUsers(s) && (name === OTHER_USERS || name.startsWith(OTHER_USERS_PREFIX));
}

/** The `\Noselect` level entries and every mailbox of one shared account, named under `Other Users/<level>/`. */
async function accountTree(a: SharedAccount): Promise<ImapMailbox[]> {
  const { mailboxes } = await a.context.backend.listMailboxes();
  return dressedTree(a, buildNamespace(mailboxes));
}

/**
 * The shared account a name lies in (`Other Users/<level>/...`, already normalized), when the rest names a mailbox
 * path in it; undefined for any other name (tree-cache.ts keeps each shared account's own tree for SELECT/STATUS).
 */
export function sharedAccountOf(s: Session, name: string): SharedAccount | undefined {
  if (!inOtherUsers(s, name) || !name.startsWith(OTHER_USERS_PREFIX)) return undefined;
  const rest = name.slice(OTHER_USERS_PREFIX.length);
  const cut = rest.indexOf(DELIMITER);
  if (cut <= 0 || cut === rest.length - 1) return undefined;
  return sharedAccounts(s.home!).find((a) => a.level === rest.slice(0, cut));
}

/** One shared account's tree (`buildNamespace` of its mailboxes) as commands see it: its level, then its mailboxes. */
export function dressedTree(a: SharedAccount, tree: ImapMailbox[]): ImapMailbox[] {
  const prefix = OTHER_USERS_PREFIX + a.level + DELIMITER;
  const top = level(OTHER_USERS_PREFIX + a.level, tree.length > 0);
  return [top, ...tree.map((m) => ({
    ...m,
    name: prefix + m.name,
    account: a.context,
    // RFC 8620 §2 isReadOnly: whatever a server says per mailbox, nothing in a read-only account may change.
    info: a.readOnly ? { ...m.info, myRights: { ...NO_RIGHTS, mayReadItems: m.info.myRights.mayReadItems } } : m.info,
  }))];
}

function level(name: string, hasChildren: boolean): ImapMailbox {
  return {
    name,
    hasChildren,
    attributes: ['\\Noselect', hasChildren ? '\\HasChildren' : '\\HasNoChildren'],
    info: { id: '', name, parentId: null, role: null, sortOrder: 0, totalEmails: 0, unreadEmails: 0, isSubscribed: false, myRights: NO_RIGHTS },
  };
}

/**
 * The mailboxes of the other-users namespace: `Other Users`, then per account its level and tree. `only`: the
 * level of the one account wanted (a command naming one mailbox); absent: all of them (LIST).
 */
export async function otherUsersTree(s: Session, only?: string): Promise<ImapMailbox[]> {
  if (!hasOtherUsers(s)) return [];
  const accounts = sharedAccounts(s.home!).filter((a) => only === undefined || a.level === only);
  const trees = await Promise.all(accounts.map(accountTree));
  return [level(OTHER_USERS, true), ...trees.flat()];
}

/** The tree a command naming `name` needs: that shared account's (one `Mailbox/get`), or the user's own. */
export async function treeFor(s: Session, name: string, own: () => Promise<ImapMailbox[]>): Promise<ImapMailbox[]> {
  const n = normalizeMailboxName(name);
  if (!inOtherUsers(s, n)) return own();
  const account = n.slice(OTHER_USERS_PREFIX.length).split(DELIMITER)[0];
  return otherUsersTree(s, account === '' ? undefined : account);
}

/**
 * The other-users entries a LIST needs for these patterns (reference already joined, RFC 9051 §6.3.9): none when
 * no pattern can reach `Other Users`; only the two upper levels when none reaches deeper (no `*`, at most one
 * delimiter: `%`, `Other Users/%`); else the trees of the accounts a pattern can reach.
 */
export async function listOtherUsers(s: Session, patterns: string[]): Promise<ImapMailbox[]> {
  if (!hasOtherUsers(s)) return [];
  const reach = patterns.map((p) => {
    const literal = normalizeMailboxName(p).split(/[*%]/u)[0]!;
    if (!(OTHER_USERS_PREFIX.startsWith(literal) || literal.startsWith(OTHER_USERS_PREFIX) || literal === OTHER_USERS)) return null;
    const deep = p.includes('*') || p.split(DELIMITER).length > 2;
    const account = literal.startsWith(OTHER_USERS_PREFIX) ? literal.slice(OTHER_USERS_PREFIX.length).split(DELIMITER) : [];
    // `Other Users/alice/...`: only that account (a complete level is followed by a delimiter).
    return { deep, only: account.length > 1 ? account[0]! : undefined };
  }).filter((r) => r !== null);
  if (reach.length === 0) return [];
  if (!reach.some((r) => r.deep)) {
    return [level(OTHER_USERS, true), ...sharedAccounts(s.home!).map((a) => level(OTHER_USERS_PREFIX + a.level, true))];
  }
  const only = new Set(reach.map((r) => r.only));
  return otherUsersTree(s, only.size === 1 && !only.has(undefined) ? [...only][0] : undefined);
}
