/**
 * The IMAP mailbox namespace built from JMAP mailboxes (RFC 9051 §5.1, RFC 8621 §2).
 *
 * - The mailbox with role `inbox` is `INBOX`, whatever its JMAP name (RFC 9051 §5.1: INBOX is case-insensitive).
 * - Hierarchy comes from `parentId`, joined with the delimiter `/` (RFC 9051 §5.1.1).
 * - A JMAP name that itself contains `/` cannot be shown as is (it would read as hierarchy): each `/` in a name
 *   is shown as U+2215 DIVISION SLASH and mapped back when the client uses it. Consistent both ways.
 * - Roles give SPECIAL-USE attributes (RFC 6154 §2), sent in LIST replies.
 */
import type { MailboxInfo } from '../backend/backend.ts';
import type { AccountContext } from './context.ts';

export const DELIMITER = '/';
const NAME_SLASH_STAND_IN = '\u2215';

/** JMAP role -> RFC 6154 special-use attribute. */
export const ROLE_TO_SPECIAL_USE: Readonly<Record<string, string>> = {
  all: '\\All',
  archive: '\\Archive',
  drafts: '\\Drafts',
  flagged: '\\Flagged',
  junk: '\\Junk',
  sent: '\\Sent',
  trash: '\\Trash',
};

export interface ImapMailbox {
  /** Full IMAP name, decoded (UTF-8), `INBOX` for the inbox. */
  name: string;
  info: MailboxInfo;
  hasChildren: boolean;
  /** RFC 9051 §7.3.1 mailbox attributes: \Noselect (no read right), \HasChildren/\HasNoChildren, the special-use one. */
  attributes: string[];
  /** The account shared with the user that holds it (shared-accounts.ts); absent: the user's own account. */
  account?: AccountContext;
}

/** The whole tree, in a stable order (INBOX first, then by sortOrder and name at each level, depth-first). */
export function buildNamespace(list: MailboxInfo[]): ImapMailbox[] {
  const byParent = new Map<string | null, MailboxInfo[]>();
  const ids = new Set(list.map((m) => m.id));
  for (const m of list) {
    const parent = m.parentId !== null && ids.has(m.parentId) ? m.parentId : null;
    const siblings = byParent.get(parent) ?? [];
    siblings.push(m);
    byParent.set(parent, siblings);
  }
  const out: ImapMailbox[] = [];
  const visit = (parent: string | null, prefix: string, depth: number): void => {
    const kids = (byParent.get(parent) ?? []).sort(compareMailboxes);
    for (const m of kids) {
      const name = parent === null && m.role === 'inbox' ? 'INBOX' : prefix + m.name.replaceAll(DELIMITER, NAME_SLASH_STAND_IN);
      const hasChildren = (byParent.get(m.id)?.length ?? 0) > 0;
      // RFC 9051 §7.3.1 \Noselect: a mailbox the user may see but not read (RFC 8621 §2.1 myRights mayReadItems).
      const attributes = m.myRights.mayReadItems ? [] : ['\\Noselect'];
      attributes.push(hasChildren ? '\\HasChildren' : '\\HasNoChildren');
      const special = m.role ? ROLE_TO_SPECIAL_USE[m.role] : undefined;
      if (special) attributes.push(special);
      out.push({ name, info: m, hasChildren, attributes });
      if (depth < 64) visit(m.id, name + DELIMITER, depth + 1);
    }
  };
  visit(null, '', 0);
  return out;
}

function compareMailboxes(a: MailboxInfo, b: MailboxInfo): number {
  if ((a.role === 'inbox') !== (b.role === 'inbox')) return a.role === 'inbox' ? -1 : 1;
  return a.sortOrder - b.sortOrder || a.name.localeCompare(b.name);
}

/** RFC 6154 special-use attribute (any case) -> JMAP role: the inverse of ROLE_TO_SPECIAL_USE. */
export function specialUseToRole(attribute: string): string | undefined {
  const wanted = attribute.toLowerCase();
  return Object.keys(ROLE_TO_SPECIAL_USE).find((role) => ROLE_TO_SPECIAL_USE[role]!.toLowerCase() === wanted);
}

/** The special-use attribute of a mailbox (RFC 6154 §2), if its JMAP role has one. */
export function specialUseOf(m: ImapMailbox): string | undefined {
  return m.info.role ? ROLE_TO_SPECIAL_USE[m.info.role] : undefined;
}

/** An IMAP name level -> the JMAP `name` it stands for (U+2215 back to `/`, the inverse of buildNamespace). */
export function toJmapName(level: string): string {
  return level.replaceAll(NAME_SLASH_STAND_IN, DELIMITER);
}

/**
 * The levels of a full IMAP name a client wants to create or rename to (RFC 9051 §6.3.4: one trailing delimiter
 * only declares intent and is dropped). Null when a level is empty (`a//b`, `/a`): no such name can exist.
 */
export function nameLevels(name: string): string[] | null {
  const trimmed = name.endsWith(DELIMITER) ? name.slice(0, -1) : name;
  const levels = normalizeMailboxName(trimmed).split(DELIMITER);
  return levels.some((l) => l === '') ? null : levels;
}

/** The strict ancestors of a full name, nearest last (`a/b/c` -> `a`, `a/b`). */
export function ancestorNames(name: string): string[] {
  const levels = name.split(DELIMITER);
  return levels.slice(1).map((_, i) => levels.slice(0, i + 1).join(DELIMITER));
}

/** Find a mailbox by the IMAP name a client sent (INBOX case-insensitive, RFC 9051 §5.1). */
export function findMailbox(tree: ImapMailbox[], name: string): ImapMailbox | undefined {
  const wanted = normalizeMailboxName(name);
  return tree.find((m) => m.name === wanted);
}

/** `inbox`, `Inbox`... -> `INBOX`, also as the first level of a hierarchical name (`inbox/x` -> `INBOX/x`). */
export function normalizeMailboxName(name: string): string {
  if (name.length >= 5 && name.slice(0, 5).toUpperCase() === 'INBOX' && (name.length === 5 || name[5] === DELIMITER)) {
    return 'INBOX' + name.slice(5);
  }
  return name;
}

/**
 * LIST pattern matching (RFC 9051 §6.3.9): reference and pattern are concatenated; `*` matches anything,
 * `%` anything but the delimiter. INBOX matches case-insensitively.
 */
export function listMatcher(reference: string, pattern: string): (name: string) => boolean {
  const full = normalizeMailboxName(joinReference(reference, pattern));
  let re = '^';
  for (const ch of full) {
    if (ch === '*') re += '.*';
    else if (ch === '%') re += '[^/]*';
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const rx = new RegExp(re + '$', 'su');
  return (name) => rx.test(name);
}

function joinReference(reference: string, pattern: string): string {
  if (reference === '' || pattern.startsWith(DELIMITER)) return pattern;
  return reference + pattern;
}
