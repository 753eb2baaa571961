/**
 * JMAP metadata (RFC 8621 §4.1.1 keywords; §4.1.1-4.1.2 immutable size, receivedAt, blobId, threadId) of the
 * messages a SEARCH / SORT / THREAD tier needs (DESIGN.md rules 8, 9).
 *
 * From KEYWORD_CACHE_MIN messages on, as FETCH does: one `Email/changes` brings the account's keyword cache
 * (../keyword-cache.ts) to the store's state; a message whose keywords are cached there and whose immutable facts
 * are in the message cache (../../cache/) needs no request; the others come from one `Email/get`, recorded in the
 * keyword cache when that response reported the cache's state. A warm flag search of a 6,000-message folder costs
 * one `Email/changes`. Fewer messages: one `Email/get`, as before (a cache check would cost as much).
 */
import type { EmailMeta } from '../../backend/backend.ts';
import { cachedMeta, KEYWORD_CACHE_MIN, keywordsOf } from '../keyword-cache.ts';
import type { Session } from '../session.ts';

/** The metadata of `ids` still in the store (missing ids are absent from the result). */
export async function metasOf(s: Session, ids: string[]): Promise<Map<string, EmailMeta>> {
  const backend = s.account!.backend;
  const out = new Map<string, EmailMeta>();
  if (ids.length === 0) return out;
  const cache = s.config.messageCache;
  if (ids.length < KEYWORD_CACHE_MIN || !cache) {
    for (const m of await backend.getEmails(ids)) out.set(m.id, m);
    return out;
  }
  const keywords = keywordsOf(s.account!, s.config.messageCache?.keywords);
  await keywords.refresh(backend);
  const cached = await cache.get(s.account!.accountKey, ids);
  const ask: string[] = [];
  for (const id of ids) {
    const c = cached.get(id);
    const k = c && keywords.get(id);
    if (c && k) out.set(id, cachedMeta(c, k));
    else ask.push(id);
  }
  if (ask.length > 0) {
    const got = await backend.getEmailsWithHeaders(ask, []);
    keywords.record(got.state, got.metas);
    for (const m of got.metas) out.set(m.id, m);
  }
  return out;
}

/**
 * The keywords alone (RFC 8621 §4.1.1) of `ids` still in the store, for a search whose metadata keys are all flags
 * (FLAG, UNSEEN, ...): from KEYWORD_CACHE_MIN messages on, the keyword cache brought to the store's current state by
 * one `Email/changes` answers without the message cache, as FETCH FLAGS does; the misses (and smaller sets) come from
 * one `Email/get` of `id` + `keywords`, recorded when it reported the cache's state.
 */
export async function keywordsOfIds(s: Session, ids: string[]): Promise<Map<string, readonly string[]>> {
  const backend = s.account!.backend;
  const out = new Map<string, readonly string[]>();
  if (ids.length === 0) return out;
  const keywords = ids.length >= KEYWORD_CACHE_MIN ? keywordsOf(s.account!, s.config.messageCache?.keywords) : null;
  let ask = ids;
  if (keywords) {
    await keywords.refresh(backend);
    ask = [];
    for (const id of ids) {
      const k = keywords.get(id);
      if (k) out.set(id, k);
      else ask.push(id);
    }
  }
  if (ask.length > 0) {
    const got = await backend.getEmailsWithHeaders(ask, [], { keywordsOnly: true });
    keywords?.record(got.state, got.metas);
    for (const m of got.metas) out.set(m.id, m.keywords);
  }
  return out;
}
