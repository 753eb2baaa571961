/**
 * The user's own mailbox tree (RFC 8621 §2), kept per account across sessions in this process, so that a warm SELECT
 * costs ONE JMAP request: `Mailbox/changes` since the kept Mailbox state, which proves the kept tree still current,
 * and a `Mailbox/get` of the named mailbox (its rights as they are now: sameMailbox) travel in the same request
 * (RFC 8620 §3.3: a request carries several method calls) as the `Email/changes` since the named mailbox's UID-map
 * state that starts its sync (sync.ts `Prefetch`; docs/bench/profile.md).
 *
 * Deterministic: a kept tree is never used unchecked, and whether it is still valid depends only on that account's
 * Mailbox state (RFC 8620 §5.1: the state changes whenever any mailbox of the account changes), never on what other
 * sessions did before. Any tree read (`names.ts mailboxTree`: LIST, SELECT, STATUS, CREATE...) keeps its result; a
 * CREATE, RENAME or DELETE (over IMAP or JMAP) moves the state, so the next SELECT reads the tree again.
 *
 * Key: the JMAP session (URL and RFC 8620 §2 session `state`, which moves when the user's accounts or shares
 * change), the login name and the account: `myRights` is per user (RFC 8621 §2.4), so users never share a tree.
 * Only the counters changing (RFC 8621 §2.2 `updatedProperties`) leaves the tree valid: the gateway reads no counter.
 */
import type { MailboxChanges, MailBackend, MailboxInfo } from '../backend/backend.ts';
import { ImapError } from '../protocol/errors.ts';
import type { AccountContext } from './context.ts';
import { buildNamespace, findMailbox, normalizeMailboxName, type ImapMailbox } from './mailboxes.ts';
import type { Session } from './session.ts';
import { inOtherUsers } from './shared-accounts.ts';
import { CHANGES_PER_PAGE, type Prefetch } from './sync.ts';

/** One account's tree at one Mailbox state. */
interface KeptTree {
  state: string;
  tree: ImapMailbox[];
}

/** Accounts kept, least recently used first (a tree is small: names, ids, rights). */
const kept = new Map<string, KeptTree>();
const MAX_ACCOUNTS = 10_000;

/** RFC 8621 §2 counters: a change of only these leaves the tree as it was. */
const COUNTERS = new Set(['totalEmails', 'unreadEmails', 'totalThreads', 'unreadThreads']);

function keyOf(ctx: AccountContext): string {
  const info = ctx.backend.serverInfo();
  return JSON.stringify([info.sessionUrl, info.sessionState ?? '', ctx.username, ctx.accountKey]);
}

/** Keep the tree just read (`Mailbox/get` at `state`) for the account; returns it built. */
export function keepTree(ctx: AccountContext, state: string, mailboxes: MailboxInfo[]): ImapMailbox[] {
  return remember(ctx, state, buildNamespace(mailboxes));
}

function remember(ctx: AccountContext, state: string, tree: ImapMailbox[]): ImapMailbox[] {
  const key = keyOf(ctx);
  kept.delete(key);
  if (state !== '') kept.set(key, { state, tree });
  for (const k of kept.keys()) { if (kept.size <= MAX_ACCOUNTS) break; kept.delete(k); }
  return tree;
}

/** Forget the account's tree (a failed or inconclusive check: the next command reads it again). */
function forget(ctx: AccountContext): void {
  kept.delete(keyOf(ctx));
}

/** The Mailbox changes leave the tree as it was: none, or only the counters (RFC 8621 §2.2 updatedProperties). */
function treeUnchanged(ch: MailboxChanges): boolean {
  if (ch.hasMoreChanges || ch.created.length + ch.destroyed.length > 0) return false;
  return ch.updated.length === 0 || (ch.updatedProperties !== null && ch.updatedProperties.every((p) => COUNTERS.has(p)));
}

/**
 * The named mailbox as read now is the one the kept tree holds: name, parent, role and every right. A server that
 * changed `myRights` without moving the Mailbox state (RFC 8620 §5.1 says it must move) still cannot make a SELECT
 * use stale rights.
 */
function sameMailbox(now: MailboxInfo, kept: MailboxInfo): boolean {
  const rights = Object.keys(kept.myRights) as Array<keyof MailboxInfo['myRights']>;
  return now.name === kept.name && now.parentId === kept.parentId && now.role === kept.role
    && rights.every((k) => now.myRights[k] === kept.myRights[k]);
}

/** What SELECT resolved: the mailbox, and the sync's first `Email/changes` page when it came in the same request. */
export interface SelectTarget {
  mailbox: ImapMailbox;
  prefetch?: Prefetch;
}

/**
 * The mailbox a SELECT / EXAMINE names, in one request when the account's tree is kept: `Mailbox/changes` since the
 * kept state, `Mailbox/get` of the named mailbox (its rights now) and `Email/changes` since the mailbox's UID-map state (read from the UID store BEFORE the request, as a
 * sync's snapshot must be: sync.ts). Tree changed: read again (`reread`), and the prefetched changes are handed on
 * only when the name still means the same mailbox id. Not kept, or a shared account's name: `fallback` (the
 * present path: `Mailbox/get`, then the sync). NO [NONEXISTENT] (RFC 5530) when the name names nothing.
 */
export async function resolveForSelect(
  s: Session, name: string, reread: () => Promise<ImapMailbox[]>, fallback: () => Promise<ImapMailbox>,
): Promise<SelectTarget> {
  const home = s.home!;
  const hit = kept.get(keyOf(home));
  const assumed = hit && !inOtherUsers(s, normalizeMailboxName(name)) ? findMailbox(hit.tree, name) : undefined;
  if (!hit || !assumed) return { mailbox: await fallback() };
  const uidState = assumed.info.myRights.mayReadItems ? await s.config.uidStore.openMailbox(home.accountKey, assumed.info.id) : null;
  let probe: Awaited<ReturnType<MailBackend['mailboxAndEmailChanges']>>;
  try {
    probe = await home.backend.mailboxAndEmailChanges(hit.state, assumed.info.id, uidState?.syncState ?? null, CHANGES_PER_PAGE);
  } catch (err) {
    forget(home);
    throw err;
  }
  let mailbox: ImapMailbox | undefined = assumed;
  if (probe.mailbox && treeUnchanged(probe.mailbox) && probe.named && sameMailbox(probe.named, assumed.info)) {
    if (probe.mailbox.newState !== hit.state) remember(home, probe.mailbox.newState, hit.tree);
  } else {
    mailbox = findMailbox(await reread(), name);
  }
  if (!mailbox) throw ImapError.no(`Mailbox does not exist: ${name}`, 'NONEXISTENT');
  const same = mailbox.info.id === assumed.info.id;
  return { mailbox, ...(same && uidState && probe.email ? { prefetch: { state: uidState, changes: probe.email } } : {}) };
}
