/**
 * GETJMAPACCESS (RFC 9698): the same messages are reachable over JMAP at the backend's Session resource URL
 * (RFC 8620 §2), the one this gateway itself uses. Answer: `* JMAPACCESS "<url>"`, then OK. No request.
 */
import type { HandlerResult } from '../dispatch.ts';
import type { Session } from '../session.ts';

export async function getJmapAccessCommand(s: Session): Promise<HandlerResult> {
  await s.send({ type: 'untagged', data: [{ atom: 'JMAPACCESS' }, s.account!.backend.serverInfo().sessionUrl] });
}
