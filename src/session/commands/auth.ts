/**
 * Not-authenticated commands: STARTTLS, LOGIN, AUTHENTICATE (RFC 9051 §6.2) with SASL-IR (RFC 4959) and the
 * mechanisms PLAIN (RFC 4616), LOGIN (draft-murchison-sasl-login), OAUTHBEARER (RFC 7628) and XOAUTH2.
 * Each mechanism is a small state machine fed the client's decoded responses; one driver runs the exchange.
 */
import { ImapError } from '../../protocol/errors.ts';
import { parseSaslResponse } from '../../protocol/parse.ts';
import type { CommandOf } from '../../protocol/types.ts';
import { decodeBase64, encodeBase64 } from '../../encoding/base64.ts';
import {
  LOGIN_CHALLENGES, isSaslMechanism, oauthBearerChallenge, offeredMechanisms, parseLoginStep, parseOAuthBearer, parsePlain,
  parseXOAuth2, xoauth2Challenge, type BearerCredentials, type PasswordCredentials, type SaslMechanism,
} from '../../auth/sasl.ts';
import { capabilities } from '../capabilities.ts';
import { BearerRejected } from '../context.ts';
import type { HandlerResult } from '../dispatch.ts';
import type { Completion, Session } from '../session.ts';

/** RFC 9051 §6.2.1: tagged OK, then the pump discards buffered plaintext and negotiates TLS. */
export async function starttlsCommand(s: Session): Promise<HandlerResult> {
  if (!s.connection.starttls || s.connection.tls) throw ImapError.bad('STARTTLS is not available on this connection');
  s.requestTls();
  return { text: 'Begin TLS negotiation now' };
}

/** RFC 9051 §6.2.3 */
export async function loginCommand(s: Session, c: CommandOf<'LOGIN'>): Promise<HandlerResult> {
  admit(s);
  return logIn(s, { authzid: '', username: c.username, password: c.password, mechanism: 'PLAIN' });
}

/** One step of a mechanism: the next challenge, or the finished login. `null` input = no initial response. */
type Step = { challenge: Uint8Array } | { done: Completion };
type Mechanism = (response: Uint8Array | null) => Promise<Step>;

const EMPTY = new Uint8Array(0);
const text = (t: string): Uint8Array => new TextEncoder().encode(t);

/** RFC 9051 §6.2.2 with RFC 4959 SASL-IR. `*` cancels (BAD); bad base64 is BAD. */
export async function authenticateCommand(s: Session, c: CommandOf<'AUTHENTICATE'>): Promise<HandlerResult> {
  const name = c.mechanism.toUpperCase();
  if (!isSaslMechanism(name) || !offeredMechanisms(s.config.authenticator, s.connection).includes(name)) {
    throw ImapError.no(`Unsupported authentication mechanism ${c.mechanism}`, 'CANNOT');
  }
  admit(s);
  let first: Uint8Array | null = null;
  if (c.initialResponse !== undefined) {
    first = decodeBase64(c.initialResponse);
    if (first === null) throw ImapError.bad('Invalid base64 in SASL initial response');
  }
  const mechanism = MECHANISMS[name](s);
  const step = await mechanism(first);
  if ('done' in step) return step.done;
  await s.send({ type: 'continue', text: encodeBase64(step.challenge) });
  const next = async (frame: Uint8Array): Promise<void> => {
    try {
      const response = parseSaslResponse(frame);
      if (response.type === 'invalid') throw ImapError.bad(response.text);
      if (response.type === 'cancel') throw ImapError.bad('Authentication cancelled');
      const r = await mechanism(response.data);
      if ('challenge' in r) {
        await s.send({ type: 'continue', text: encodeBase64(r.challenge) });
        s.waitForLine(next);
        return;
      }
      await s.send({ type: 'tagged', tag: c.tag, status: 'OK', ...(r.done.code ? { code: r.done.code } : {}), text: r.done.text ?? 'Logged in' });
    } catch (err) {
      await s.answerError(c.tag, err);
    }
  };
  s.waitForLine(next);
  return 'deferred';
}

const MECHANISMS: Record<SaslMechanism, (s: Session) => Mechanism> = {
  /** RFC 4616: one message, `authzid NUL authcid NUL passwd`. */
  PLAIN: (s) => async (r) => {
    if (r === null) return { challenge: EMPTY };
    const creds = parsePlain(r);
    if (creds === null) throw ImapError.bad('Malformed PLAIN message (RFC 4616)');
    if (creds.authzid !== '' && creds.authzid !== creds.username) {
      throw ImapError.no('Acting as another user is not allowed', 'AUTHORIZATIONFAILED');
    }
    return { done: await logIn(s, { ...creds, mechanism: 'PLAIN' }) };
  },
  /** LOGIN: "Username:" then "Password:"; with SASL-IR the initial response is the user name. */
  LOGIN: (s) => {
    let username: string | null = null;
    return async (r) => {
      if (r === null) return { challenge: text(LOGIN_CHALLENGES[0]) };
      const value = parseLoginStep(r);
      if (value === null || value === '') throw ImapError.bad('Malformed LOGIN response');
      if (username === null) {
        username = value;
        return { challenge: text(LOGIN_CHALLENGES[1]) };
      }
      return { done: await logIn(s, { authzid: '', username, password: value, mechanism: 'LOGIN' }) };
    };
  },
  OAUTHBEARER: (s) => bearerMechanism(s, 'OAUTHBEARER', parseOAuthBearer, oauthBearerChallenge),
  XOAUTH2: (s) => bearerMechanism(s, 'XOAUTH2', parseXOAuth2, xoauth2Challenge),
};

/**
 * RFC 7628 §3.2: one client message; on failure the server sends the JSON error as a challenge, the client
 * answers with a dummy (`%x01` for OAUTHBEARER, empty for XOAUTH2) and the server then fails the exchange.
 */
function bearerMechanism(
  s: Session,
  name: 'OAUTHBEARER' | 'XOAUTH2',
  parse: (m: Uint8Array) => BearerCredentials | null,
  challenge: (e: BearerRejected['error']) => Uint8Array,
): Mechanism {
  let failed = false;
  return async (r) => {
    if (failed) throw ImapError.no('Authentication failed', 'AUTHENTICATIONFAILED');
    if (r === null) return { challenge: EMPTY };
    const creds = parse(r);
    if (creds === null) throw ImapError.bad(`Malformed ${name} message`);
    const login = s.config.authenticator.loginBearer;
    if (!login) throw ImapError.no(`Unsupported authentication mechanism ${name}`, 'CANNOT');
    const user = creds.authzid || '(token)';
    try {
      s.account = await login.call(s.config.authenticator, { ...creds, mechanism: name }, s.connection);
    } catch (err) {
      await failure(s, user, name, err);
      if (!(err instanceof BearerRejected)) throw err;
      failed = true;
      return { challenge: challenge(err.error) };
    }
    return { done: loggedIn(s, s.account.username, name) };
  };
}

/** Refuse at once when this address is blocked (BYE) or credentials may not travel here (RFC 9051 §6.2.3). */
function admit(s: Session): void {
  if (s.config.throttle?.blocked(s.connection.remoteAddress)) {
    s.config.logger.warn({ conn: s.connection.id, remote: s.connection.remoteAddress }, 'login attempt from a blocked address');
    throw ImapError.bye('Too many failed logins from your address; try again later');
  }
  if (!s.credentialsAllowed) throw ImapError.no('Plaintext authentication is disabled; use STARTTLS first', 'PRIVACYVIOLATION');
}

/** Verify with the tenant's authenticator; a refusal waits (throttling) and answers NO [AUTHENTICATIONFAILED]. */
async function logIn(s: Session, creds: PasswordCredentials): Promise<Completion> {
  try {
    s.account = await s.config.authenticator.login(creds, s.connection);
  } catch (err) {
    await failure(s, creds.username, creds.mechanism ?? 'PLAIN', err);
    throw err;
  }
  return loggedIn(s, creds.username, creds.mechanism ?? 'PLAIN');
}

/** Audit line (no secret) and the growing delay of a refused login; errors other than refusals are not delayed. */
async function failure(s: Session, user: string, mechanism: string, err: unknown): Promise<void> {
  const refused = err instanceof BearerRejected || (err instanceof ImapError && (err.code?.name === 'AUTHENTICATIONFAILED' || err.code?.name === 'AUTHORIZATIONFAILED'));
  const remote = s.connection.remoteAddress;
  s.config.logger.info({ conn: s.connection.id, remote, user, mechanism, outcome: refused ? 'rejected' : 'error' }, 'login failed');
  if (!refused) return;
  const delay = s.config.throttle ? s.config.throttle.failure(user, remote, s.connection.serverName) : s.config.authFailureDelayMs;
  await new Promise((r) => setTimeout(r, delay));
}

function loggedIn(s: Session, user: string, mechanism: string): Completion {
  const limits = s.config.connectionLimits;
  const accountKey = s.account!.accountKey;
  if (limits) {
    if (!limits.admitUser(accountKey, s.connection.remoteAddress)) {
      s.account = null;
      throw ImapError.bye('Too many connections for this user', 'LIMIT');
    }
    s.onEnd(() => limits.releaseUser(accountKey));
  }
  s.state = 'authenticated';
  s.config.throttle?.success(user);
  s.config.logger.info({ conn: s.connection.id, remote: s.connection.remoteAddress, user: s.account?.username ?? user, mechanism }, 'logged in');
  return { text: 'Logged in', code: { name: 'CAPABILITY', data: capabilities(s).join(' ') } };
}
