/** Not-authenticated commands: STARTTLS, LOGIN, AUTHENTICATE (RFC 9051 §6.2, SASL-IR RFC 4959). */
import { ImapError } from '../../protocol/errors.ts';
import { parseSaslResponse } from '../../protocol/parse.ts';
import type { CommandOf } from '../../protocol/types.ts';
import { decodeBase64 } from '../../auth/base64.ts';
import { parsePlain, type PasswordCredentials } from '../../auth/sasl.ts';
import { capabilities } from '../capabilities.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { Session } from '../session.ts';

/** RFC 9051 §6.2.1: tagged OK, then the pump discards buffered plaintext and negotiates TLS. */
export async function starttlsCommand(s: Session): Promise<HandlerResult> {
  if (!s.connection.starttls || s.connection.tls) throw ImapError.bad('STARTTLS is not available on this connection');
  s.requestTls();
  return { text: 'Begin TLS negotiation now' };
}

/** RFC 9051 §6.2.3 */
export async function loginCommand(s: Session, c: CommandOf<'LOGIN'>): Promise<HandlerResult> {
  if (!s.credentialsAllowed) throw ImapError.no('Plaintext authentication is disabled; use STARTTLS first', 'PRIVACYVIOLATION');
  return logIn(s, { authzid: '', username: c.username, password: c.password });
}

/** RFC 9051 §6.2.2 with RFC 4959 SASL-IR: PLAIN (RFC 4616). `*` cancels; bad base64 is BAD. */
export async function authenticateCommand(s: Session, c: CommandOf<'AUTHENTICATE'>): Promise<HandlerResult> {
  if (c.mechanism !== 'PLAIN') throw ImapError.no(`Unsupported authentication mechanism ${c.mechanism}`, 'CANNOT');
  if (!s.credentialsAllowed) throw ImapError.no('Plaintext authentication is disabled; use STARTTLS first', 'PRIVACYVIOLATION');
  if (c.initialResponse !== undefined) {
    const bytes = decodeBase64(c.initialResponse);
    if (bytes === null) throw ImapError.bad('Invalid base64 in SASL initial response');
    return finishPlain(s, bytes);
  }
  await s.send({ type: 'continue', text: '' });
  s.waitForLine(async (frame) => {
    try {
      const response = parseSaslResponse(frame);
      if (response.type === 'invalid') throw ImapError.bad(response.text);
      if (response.type === 'cancel') throw ImapError.bad('Authentication cancelled');
      const done = await finishPlain(s, response.data);
      await s.send({ type: 'tagged', tag: c.tag, status: 'OK', ...(done.code ? { code: done.code } : {}), text: done.text ?? 'Logged in' });
    } catch (err) {
      await s.answerError(c.tag, err);
    }
  });
  return 'deferred';
}

async function finishPlain(s: Session, bytes: Uint8Array): Promise<{ text?: string; code?: { name: string; data?: string } }> {
  const creds = parsePlain(bytes);
  if (creds === null) throw ImapError.bad('Malformed PLAIN message (RFC 4616)');
  if (creds.authzid !== '' && creds.authzid !== creds.username) {
    throw ImapError.no('Acting as another user is not allowed', 'AUTHORIZATIONFAILED');
  }
  return logIn(s, creds);
}

/** Verify with the tenant's authenticator; on failure wait (slows guessing) and answer NO [AUTHENTICATIONFAILED]. */
async function logIn(s: Session, creds: PasswordCredentials): Promise<{ text: string; code: { name: string; data: string } }> {
  try {
    s.account = await s.config.authenticator.login(creds);
  } catch (err) {
    const authFailure = err instanceof ImapError && err.code?.name === 'AUTHENTICATIONFAILED';
    s.config.logger.info({ conn: s.connection.id, remote: s.connection.remoteAddress, outcome: authFailure ? 'rejected' : 'error' }, 'login failed');
    if (authFailure) await new Promise((r) => setTimeout(r, s.config.authFailureDelayMs));
    throw err;
  }
  s.state = 'authenticated';
  s.config.logger.info({ conn: s.connection.id, remote: s.connection.remoteAddress }, 'logged in');
  return { text: 'Logged in', code: { name: 'CAPABILITY', data: capabilities(s).join(' ') } };
}

