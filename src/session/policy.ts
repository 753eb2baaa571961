/**
 * Per-tenant choices of how IMAP maps onto the tenant's JMAP store (schema/tenants.schema.json `copySemantics`,
 * `searchText`; for a single-tenant Node gateway the `--copy-semantics` / `--search-text` flags). A tenant's value
 * wins over the gateway-wide default.
 */
import type { Session } from './session.ts';

/**
 * COPY (RFC 9051 §6.4.7): `label` adds the destination to the email's JMAP `mailboxIds` (RFC 8621 §4.1.1, one
 * email in two mailboxes, keywords shared); `copy` imports the blob into the destination as a new email (RFC 8621
 * §4.8; keywords then evolve apart, as on a classic IMAP server). MOVE is unaffected.
 */
export type CopySemantics = 'label' | 'copy';

/**
 * SEARCH TEXT / BODY (RFC 9051 §6.4.4): `exact` decides substring matches in the gateway over the decoded message
 * (downloads what the JMAP filter cannot rule out); `index` answers with the store's own `Email/query` `text` /
 * `body` filter (RFC 8621 §4.4.1: matching is server-defined, e.g. word-based: fuzzy, no blob download).
 */
export type SearchTextMode = 'exact' | 'index';

/** The per-tenant settings a logged-in account carries (AccountContext.policy) or the gateway defaults to. */
export interface AccountPolicy {
  copySemantics?: CopySemantics;
  searchText?: SearchTextMode;
}

export function copySemantics(s: Session): CopySemantics {
  return s.account?.policy?.copySemantics ?? s.config.policy?.copySemantics ?? 'label';
}

export function searchTextMode(s: Session): SearchTextMode {
  return s.account?.policy?.searchText ?? s.config.policy?.searchText ?? 'exact';
}
