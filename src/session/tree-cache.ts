/**
 * The user's mailbox trees (RFC 8621 §2: the own account's, and each shared account's, shared-accounts.ts), kept per
 * account across sessions in this process, so that a warm SELECT (and STATUS, commands/status.ts) costs ONE JMAP
 * request: `Mailbox/changes` since the kept Mailbox state, which proves the kept tree still current, and a
 * `Mailbox/get` of the named mailbox (its rights as they are now: sameMailbox) travel in the same request (RFC 8620
 * §3.3: a request carries several method calls) as the `Email/changes` since the named mailbox's UID-map state that
 * starts its sync (sync.ts `Prefetch`; docs/bench/profile.md).
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
import { dressedTree, inOtherUsers, sharedAccountOf } from './shared-accounts.ts';
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
 * The mailbox a SELECT / EXAMINE (or a STATUS, commands/status.ts) names, in one request when the tree of its
 * account is kept: `Mailbox/changes` since the kept state, `Mailbox/get` of the named mailbox (its rights now) and
 * `Email/changes` since the mailbox's UID-map state (read from the UID store BEFORE the request, as a sync's snapshot
 * must be: sync.ts). Tree changed: read again (`reread`), and the prefetched changes are handed on only when the
 * name still means the same mailbox id. The account: the user's own, or for `Other Users/<level>/...` that shared
 * account (shared-accounts.ts), whose tree is kept (as JMAP names it, undressed) under its own context and read here
 * (one `Mailbox/get` of that account, as `fallback` would) when not kept. Not kept (own account), or a name of the
 * other-users namespace that names no mailbox path: `fallback` (`Mailbox/get`, then the sync). NO [NONEXISTENT]
 * (RFC 5530) when the name names nothing.
 */
export async function resolveForSelect(
  s: Session, name: string, reread: () => Promise<ImapMailbox[]>, fallback: () => Promise<ImapMailbox>,
): Promise<SelectTarget> {
  const n = normalizeMailboxName(name);
  const shared = sharedAccountOf(s, n);
  if (!shared && inOtherUsers(s, n)) return { mailbox: await fallback() };
  const ctx = shared?.context ?? s.home!;
  /** The account's tree as commands name it (a shared one under `Other Users/<level>/`). */
  const named = (tree: ImapMailbox[]) => (shared ? dressedTree(shared, tree) : tree);
  const readAgain = shared
    ? async () => { const { state, mailboxes } = await ctx.backend.listMailboxes(); return named(keepTree(ctx, state, mailboxes)); }
    : reread;
  const hit = kept.get(keyOf(ctx));
  const assumed = hit ? findMailbox(named(hit.tree), name) : undefined;
  const raw = assumed && hit!.tree.find((m) => m.info.id === assumed.info.id)?.info; // as JMAP gave it (no read-only dressing)
  if (!hit || !assumed || !raw) {
    if (!shared) return { mailbox: await fallback() };
    const found = findMailbox(await readAgain(), name);
    if (!found) throw ImapError.no(`Mailbox does not exist: ${name}`, 'NONEXISTENT');
    return { mailbox: found };
  }
  const uidState = assumed.info.myRights.mayReadItems ? await s.config.uidStore.openMailbox(ctx.accountKey, assumed.info.id) : null;
  let probe: Awaited<ReturnType<MailBackend['mailboxAndEmailChanges']>>;
  try {
    probe = await ctx.backend.mailboxAndEmailChanges(hit.state, assumed.info.id, uidState?.syncState ?? null, CHANGES_PER_PAGE);
  } catch (err) {
    forget(ctx);
    throw err;
  }
  let mailbox: ImapMailbox | undefined = assumed;
  if (probe.mailbox && treeUnchanged(probe.mailbox) && probe.named && sameMailbox(probe.named, raw)) {
    if (probe.mailbox.newState !== hit.state) remember(ctx, probe.mailbox.newState, hit.tree);
  } else {
    mailbox = findMailbox(await readAgain(), name);
  }
  if (!mailbox) throw ImapError.no(`Mailbox does not exist: ${name}`, 'NONEXISTENT');
  const same = mailbox.info.id === assumed.info.id;
  return { mailbox, ...(same && uidState && probe.email ? { prefetch: { state: uidState, changes: probe.email } } : {}) };
}

/**
 * APPEND's use of the kept tree (commands/append.ts): the named mailbox as the account's kept tree resolves it,
 * with that tree's Mailbox state; undefined when no tree is kept or the name names nothing in it.
 */
export function keptTarget(ctx: AccountContext, name: string): { state: string; mailbox: ImapMailbox } | undefined {
  const hit = kept.get(keyOf(ctx));
  const mailbox = hit ? findMailbox(hit.tree, name) : undefined;
  return hit && mailbox ? { state: hit.state, mailbox } : undefined;
}

/**
 * Did the tree kept at `state` stay valid, by `changes` since it and `named` (a mailbox as read in the same request;
 * `mine`: that mailbox in the kept tree)? The rules SELECT uses (treeUnchanged, sameMailbox). Valid: the kept tree
 * moves to the new state (when it is still the one kept at `state`). Not valid: the account's tree is forgotten.
 */
export function confirmKept(ctx: AccountContext, state: string, changes: MailboxChanges | null, named: MailboxInfo | null, mine: MailboxInfo): boolean {
  const hit = kept.get(keyOf(ctx));
  if (!changes || !treeUnchanged(changes) || !named || !sameMailbox(named, mine)) {
    if (hit?.state === state) forget(ctx);
    return false;
  }
  if (hit?.state === state && changes.newState !== '' && changes.newState !== state) remember(ctx, changes.newState, hit.tree);
  return true;
}
