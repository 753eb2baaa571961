/**
 * CAPABILITY (RFC 9051 §6.1.1, §7.2.2): only what fully works is advertised (test/capabilities.test.ts maps each
 * one to the tests that prove it). IMAP4rev2 waits until everything RFC 9051 makes mandatory works (its
 * Appendix E folds IDLE, MOVE, ESEARCH, LIST-EXTENDED, UIDPLUS, NAMESPACE... into the base).
 */
import type { Session } from './session.ts';
import { SASL_MECHANISMS } from '../auth/sasl.ts';

/** Advertised in every state. */
export const BASE_CAPABILITIES = [
  'IMAP4rev1', // RFC 3501
  'LITERAL+', // RFC 7888: non-synchronizing literals up to the literal limit
  'SASL-IR', // RFC 4959
  'ID', // RFC 2971
  'ENABLE', // RFC 5161
  'UNSELECT', // RFC 3691
  'IDLE', // RFC 2177: JMAP push (RFC 8620 §7.3) or polling, see session/watch.ts
] as const;

export function capabilities(session: Session): string[] {
  const caps: string[] = [...BASE_CAPABILITIES];
  if (session.state !== 'not-authenticated') return caps;
  if (session.connection.starttls && !session.connection.tls) caps.push('STARTTLS'); // RFC 9051 §6.2.1
  if (session.credentialsAllowed) caps.push(...SASL_MECHANISMS.map((m) => `AUTH=${m}`));
  else caps.push('LOGINDISABLED'); // RFC 9051 §6.2.3
  return caps;
}
