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
  /** RFC 9051 §7.3.1 mailbox attributes: \HasChildren/\HasNoChildren and the special-use one. */
  attributes: string[];
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
      const attributes = [hasChildren ? '\\HasChildren' : '\\HasNoChildren'];
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
