/** Commands valid in any state: CAPABILITY, NOOP, LOGOUT (RFC 9051 §6.1), ID (RFC 2971), and ENABLE (RFC 5161). */
import type { CommandOf } from '../../protocol/types.ts';
import { capabilities } from '../capabilities.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { Session } from '../session.ts';
import { CONDSTORE, QRESYNC, enableCondstore, isQresync } from '../condstore.ts';

/** RFC 9051 §6.1.1 */
export async function capabilityCommand(s: Session): Promise<HandlerResult> {
  await s.send({ type: 'CAPABILITY', capabilities: capabilities(s) });
}

/**
 * RFC 9051 §6.1.2: also the moment to report changes to the selected mailbox (§7.5.1 allows EXPUNGE here). Under
 * QRESYNC, when expunges were reported, the tagged OK carries the new HIGHESTMODSEQ (RFC 7162 §6 example A152;
 * Dovecot does the same), so the client need not learn them again at its next resync.
 */
export async function noopCommand(s: Session): Promise<HandlerResult> {
  const view = s.selected;
  if (!view) return;
  const gone = await view.refresh(s);
  if (gone > 0 && isQresync(s)) return { code: { name: 'HIGHESTMODSEQ', data: String(view.reportedModseq) }, text: 'NOOP completed' };
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
 * Extensions a client may ENABLE (RFC 5161 §3.1), keyed by the upper-cased name the parser gives, valued by the
 * spelling the ENABLED response and `Session.enabled` use:
 * - `IMAP4rev2`: RFC 9051 Appendix A, a server advertising both versions keeps rev1 behaviour until this
 *   (docs/rev2.md lists what changes).
 * - `UTF8=ACCEPT`: RFC 6855 §3, UTF-8 mailbox names and quoted strings, APPEND `UTF8 (...)`.
 * - `CONDSTORE`: RFC 7162 §3.1, a CONDSTORE enabling command (session/condstore.ts): with a mailbox selected, the
 *   first one sends HIGHESTMODSEQ (after ENABLED).
 * - `QRESYNC`: RFC 7162 §3.2.3, implies CONDSTORE (turned on too, listed in ENABLED only when asked for); from
 *   then on VANISHED replaces EXPUNGE (session/qresync.ts).
 */
export const ENABLEABLE: ReadonlyMap<string, string> = new Map([
  ['CONDSTORE', 'CONDSTORE'],
  ['QRESYNC', 'QRESYNC'],
  ['IMAP4REV2', 'IMAP4rev2'],
  ['UTF8=ACCEPT', 'UTF8=ACCEPT'],
]);

/** RFC 5161 §3.1: ENABLED lists only what this command turned on (RFC 9051 §6.3.1: "SHOULD only contain"). */
export async function enableCommand(s: Session, c: CommandOf<'ENABLE'>): Promise<HandlerResult> {
  const turnedOn = [...new Set(c.capabilities.map((cap) => ENABLEABLE.get(cap.toUpperCase())))]
    .filter((cap): cap is string => cap !== undefined && !s.enabled.has(cap));
  for (const cap of turnedOn) if (cap !== CONDSTORE) s.enabled.add(cap);
  await s.send({ type: 'ENABLED', capabilities: turnedOn });
  if (turnedOn.includes(CONDSTORE) || s.enabled.has(QRESYNC)) await enableCondstore(s); // RFC 7162 §3.2.3: QRESYNC implies it
}
