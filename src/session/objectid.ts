/**
 * RFC 8474 OBJECTID: which EMAILID and THREADID a message shows.
 *
 * EMAILID is the JMAP Email id and THREADID the JMAP Thread id (both immutable, RFC 8621 §4.1.1), except for an
 * email that COPY created by re-importing its source's blob (JMAP cannot put one email twice in a mailbox, and
 * copy semantics import on every COPY): RFC 8474 §5.1 wants the COPYUID pairing to keep the source's EMAILID, and
 * §5.2 wants one THREADID per EMAILID. So such a copy inherits its source's ids, recorded in the UID store before
 * COPYUID is sent (UidStore.setOrigins; a copy of a copy inherits the first source's ids). Every UID store keeps
 * origins, so OBJECTID is always advertised after login (capabilities.ts).
 */
import type { EmailMeta } from '../backend/backend.ts';
import type { EmailOrigin } from '../uidmap/store.ts';
import type { Session } from './session.ts';

/** The recorded origins of those `emailIds` that have one. */
export async function originsOf(s: Session, emailIds: string[]): Promise<Map<string, EmailOrigin>> {
  if (emailIds.length === 0) return new Map();
  return s.config.uidStore.getOrigins(s.account!.accountKey, emailIds);
}

/** The ids `source` shows (its own, or its recorded origin): what a copy re-imported from it must show too. */
export function objectIdsOf(meta: EmailMeta, origin: EmailOrigin | undefined): EmailOrigin {
  return origin ?? { emailId: meta.id, threadId: meta.threadId };
}

/**
 * Records that `copies[i]` was imported from `sources[i]` (whose shown ids are looked up first). A copy the store
 * gave the source's own id (content-derived ids, as Cyrus has) needs nothing.
 */
export async function recordCopies(s: Session, sources: EmailMeta[], copies: string[]): Promise<void> {
  if (copies.length === 0) return;
  const known = await originsOf(s, sources.map((m) => m.id));
  const origins = new Map<string, EmailOrigin>();
  sources.forEach((m, i) => {
    const shown = objectIdsOf(m, known.get(m.id));
    if (copies[i] !== shown.emailId) origins.set(copies[i]!, shown);
  });
  if (origins.size > 0) await s.config.uidStore.setOrigins(s.account!.accountKey, origins);
}
