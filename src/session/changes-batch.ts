/**
 * One `Email/changes` for the many mailboxes one command syncs at once: LIST ... RETURN (STATUS ...) (RFC 5819 §2)
 * runs a STATUS per listed mailbox side by side. `Email/changes` (RFC 8620 §5.2) is account-wide, so the mailboxes
 * whose UID maps record the same Email state need one request between them, not one each.
 *
 * Correct by construction, like SELECT's prefetch (sync.ts `Prefetch`, tree-cache.ts):
 * - every mailbox's UID-store state is read BEFORE the request (a sync's snapshot precedes its JMAP reads), and a
 *   page is handed only to the mailboxes whose recorded state it starts from; the sync uses it only when its
 *   snapshot still equals that state;
 * - a batch gathers the calls made in one synchronous run of one session's code (the calls LIST-STATUS starts
 *   together, before its first await): all within the command, so the request is made during it and its answer
 *   is as current as RFC 9051 §6.3.11 asks. Nothing is kept after the batch: the next command asks again.
 * A failed request (e.g. cannotCalculateChanges) hands on nothing: each sync then asks for itself, as before.
 */
import type { AccountContext } from './context.ts';
import type { Session } from './session.ts';
import { CHANGES_PER_PAGE, type Prefetch } from './sync.ts';

interface Waiting {
  ctx: AccountContext;
  mailboxId: string;
  resolve: (p: Prefetch | undefined) => void;
}

/** The batch of each session still gathering (until the current synchronous run ends). */
const gathering = new WeakMap<Session, Waiting[]>();

/**
 * The first `Email/changes` page of the sync of `mailboxId` in `ctx`'s account, shared with the other mailboxes
 * asked in the same synchronous run of `s`; undefined when the map was never synced or the request failed.
 */
export function batchedPrefetch(s: Session, ctx: AccountContext, mailboxId: string): Promise<Prefetch | undefined> {
  return new Promise((resolve) => {
    let batch = gathering.get(s);
    if (!batch) {
      const fresh: Waiting[] = (batch = []);
      gathering.set(s, fresh);
      queueMicrotask(() => {
        gathering.delete(s);
        void run(s, fresh);
      });
    }
    batch.push({ ctx, mailboxId, resolve });
  });
}

async function run(s: Session, batch: Waiting[]): Promise<void> {
  try {
    const states = await Promise.all(batch.map((w) => s.config.uidStore.openMailbox(w.ctx.accountKey, w.mailboxId).catch(() => null)));
    /** One request per (account, recorded Email state). */
    const requests = new Map<AccountContext, Map<string, Promise<Prefetch['changes'] | undefined>>>();
    const pages = batch.map((w, i) => {
      const since = states[i]?.syncState;
      if (since === null || since === undefined) return Promise.resolve(undefined);
      let bySince = requests.get(w.ctx);
      if (!bySince) requests.set(w.ctx, (bySince = new Map()));
      let page = bySince.get(since);
      if (!page) bySince.set(since, (page = w.ctx.backend.emailChanges(since, CHANGES_PER_PAGE).catch(() => undefined)));
      return page;
    });
    const got = await Promise.all(pages);
    batch.forEach((w, i) => {
      const changes = got[i];
      w.resolve(changes && states[i] ? { state: states[i], changes } : undefined);
    });
  } finally {
    for (const w of batch) w.resolve(undefined); // a no-op for those already answered
  }
}
