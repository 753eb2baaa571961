/**
 * UIDVALIDITY and UID number rules shared by every UidStore implementation (DESIGN.md rule 1).
 */
import { ImapError } from '../protocol/errors.ts';

/** Largest nz-number (RFC 9051 §9: UIDs and UIDVALIDITY are 32-bit unsigned, 1..4294967295). */
export const MAX_UID = 4294967295;

/**
 * The next UIDVALIDITY: seeded from the clock (whole seconds since the epoch) and strictly above `maxIssued`, the
 * largest value the store ever issued, so values are distinct across mailboxes, only grow, and a store rebuilt from
 * scratch later still issues values above the lost ones (RFC 9051 §2.3.1.1).
 */
export function nextUidValidity(maxIssued: number, nowMs: number): number {
  const next = Math.max(Math.floor(nowMs / 1000), maxIssued + 1, 1);
  if (next > MAX_UID) throw ImapError.no('UIDVALIDITY space exhausted', 'SERVERBUG');
  return next;
}
