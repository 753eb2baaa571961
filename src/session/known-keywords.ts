/**
 * The keywords a session last learned each email to have (its own APPEND's and STORE's, lower case), next to the
 * account's keyword cache (keyword-cache.ts). Used only to predict whether a STORE really changes an email, which
 * decides whether it may write without reading first (store.ts): a store may count an update that changes nothing as
 * a change (Cyrus 3.6 moves its Email state and lists the email in `Email/changes`), and a later sync would then give
 * the message a mod-sequence for nothing (RFC 7162 §3.1). A stale prediction means another writer changed the email
 * meanwhile: at worst a second mod-sequence for a message that did change, never a change without one.
 * Bounded per session (most recent kept).
 */
const known = new WeakMap<object, Map<string, readonly string[]>>();
const MAX_PER_SESSION = 256;

export function noteKeywords(session: object, emailId: string, keywords: readonly string[]): void {
  let m = known.get(session);
  if (!m) known.set(session, (m = new Map()));
  m.delete(emailId);
  m.set(emailId, keywords.map((k) => k.toLowerCase()));
  if (m.size > MAX_PER_SESSION) m.delete(m.keys().next().value!);
}

export function knownKeywords(session: object, emailId: string): readonly string[] | undefined {
  return known.get(session)?.get(emailId);
}
