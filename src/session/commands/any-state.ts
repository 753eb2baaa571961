/** Commands valid in any state: CAPABILITY, NOOP, LOGOUT (RFC 9051 §6.1), ID (RFC 2971), and ENABLE (RFC 5161). */
import type { CommandOf } from '../../protocol/types.ts';
import { capabilities } from '../capabilities.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { Session } from '../session.ts';

/** RFC 9051 §6.1.1 */
export async function capabilityCommand(s: Session): Promise<HandlerResult> {
  await s.send({ type: 'CAPABILITY', capabilities: capabilities(s) });
}

/** RFC 9051 §6.1.2: also the moment to report changes to the selected mailbox (§7.5.1 allows EXPUNGE here). */
export async function noopCommand(s: Session): Promise<HandlerResult> {
  if (s.selected) await s.selected.refresh(s);
}

/** RFC 9051 §6.1.3: untagged BYE, then the tagged OK, then the server closes. */
export async function logoutCommand(s: Session): Promise<HandlerResult> {
  await s.bye('Logging out');
  return { text: 'LOGOUT completed' };
}

/** RFC 2971 §3.1-3.2: the server's identification; the client's parameters are only logged (never credentials). */
export async function idCommand(s: Session, c: CommandOf<'ID'>): Promise<HandlerResult> {
  const client = (c.params ?? []).filter(([k]) => ['name', 'version', 'os', 'vendor'].includes(k.toLowerCase()));
  s.config.logger.info({ conn: s.connection.id, client: Object.fromEntries(client) }, 'client ID');
  await s.send({ type: 'ID', params: [['name', s.config.serverName], ['version', s.config.serverVersion], ['vendor', 'imap-jmap-gateway']] });
}

/**
 * Extensions a client may ENABLE (RFC 5161 §3.1). None yet: ENABLE answers `* ENABLED` with the subset it turned
 * on, which is empty until UTF8=ACCEPT / CONDSTORE / QRESYNC work.
 */
export const ENABLEABLE: ReadonlySet<string> = new Set<string>();

/** RFC 5161 §3.1 */
export async function enableCommand(s: Session, c: CommandOf<'ENABLE'>): Promise<HandlerResult> {
  const turnedOn = c.capabilities.filter((cap) => ENABLEABLE.has(cap) && !s.enabled.has(cap));
  for (const cap of turnedOn) s.enabled.add(cap);
  await s.send({ type: 'ENABLED', capabilities: turnedOn });
}
