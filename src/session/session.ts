/**
 * One IMAP connection's session: the state machine of RFC 9051 §3, the command loop, and the selected mailbox.
 *
 * Frames come from the pump one at a time. A frame is either a command (parsed, checked against the dispatch
 * table, run) or a line the session is waiting for (an AUTHENTICATE response, RFC 9051 §6.2.2). Every failure is
 * an `ImapError` and becomes the tagged answer; BYE ends the session. Nothing here knows about sockets.
 */
import { ImapError } from '../protocol/errors.ts';
import { encodeResponse, encodeResponseTo, type EncodeOptions } from '../protocol/encode.ts';
import { OutputSink } from '../protocol/sink.ts';
import { parseCommand } from '../protocol/parse.ts';
import type { Command, CommandType, Response } from '../protocol/types.ts';
import type { SessionPort } from '../transport/pump.ts';
import { DISPATCH, type DispatchEntry } from './dispatch.ts';
import { capabilities } from './capabilities.ts';
import type { AccountContext, ConnectionFacts, GatewayConfig } from './context.ts';
import type { SessionState } from './state.ts';
import type { MailboxView } from './view.ts';
import { isUtf8 } from './versions.ts';

/** How the session reaches its connection. */
export interface SessionIO {
  write(bytes: Uint8Array): Promise<void>;
  close(): void;
}

/** A handler's successful completion: the text (and code) of the tagged OK. */
export interface Completion {
  text?: string;
  code?: { name: string; data?: string };
}

/** Receives the next line while a command waits for one (AUTHENTICATE, later IDLE's DONE). */
type LineWaiter = (frame: Uint8Array) => Promise<void>;

export class Session implements SessionPort {
  state: SessionState = 'not-authenticated';
  /** The logged-in user's own account (RFC 8620 §2 primary mail account). */
  home: AccountContext | null = null;
  selected: MailboxView | null = null;
  /**
   * The account commands act on: the selected mailbox's when it lives in an account shared with the user
   * (shared-accounts.ts), else the user's own. Setting it (login, logout) sets the user's own.
   */
  get account(): AccountContext | null {
    return this.selected?.mailbox.account ?? this.home;
  }
  set account(a: AccountContext | null) {
    this.home = a;
  }
  /** RFC 5161 ENABLE: extensions this client turned on. */
  readonly enabled = new Set<string>();
  finished = false;

  private lineWaiter: LineWaiter | null = null;
  /** Responses gathered while a command runs (see `send`); it holds no buffer between commands (sink.ts). */
  private readonly output = new OutputSink({ chunk: OUTPUT_CHUNK + LARGE_LITERAL, largeLiteral: LARGE_LITERAL, initial: 1024 });
  /** Run once when the session ends (BYE, LOGOUT, disconnect): releases subscriptions such as IDLE's. */
  private readonly cleanups: Array<() => void> = [];
  private tlsRequested = false;
  private running = false;
  private byeAfterCommand: string | null = null;
  private badCount = 0;
  private unknownBeforeAuth = 0;

  constructor(
    readonly config: GatewayConfig,
    readonly connection: ConnectionFacts,
    private readonly io: SessionIO,
  ) {}

  /** Credentials may be sent: TLS is on, or the listener trusts this peer (RFC 9051 §6.2.3 LOGINDISABLED). */
  get credentialsAllowed(): boolean {
    if (this.connection.tls || this.config.allowCleartextAuth) return true;
    return this.config.loopbackIsSecure && isLoopback(this.connection.remoteAddress);
  }

  // ----- output ------------------------------------------------------------------------------------------------

  /**
   * Queue a response. While a command runs, responses are gathered and written in chunks of OUTPUT_CHUNK bytes
   * (and at the end of the command): one write per message of a 6,000-message FETCH cost more than the FETCH
   * itself. Outside a command (greeting, IDLE updates, shutdown) each response is written at once.
   */
  send(response: Response): Promise<void> {
    return this.sendSoon(response) ?? DONE;
  }

  /**
   * `send` for loops of many responses (a FETCH): null when the response was only gathered (nothing to wait for),
   * else the write to await.
   */
  sendSoon(response: Response): Promise<void> | null {
    const opts = isUtf8(this) ? UTF8_ON : UTF8_OFF; // RFC 6855 §3, RFC 9051 Appendix A
    if (!this.running) return this.io.write(encodeResponse(response, opts));
    const before = this.output.length;
    try {
      encodeResponseTo(response, this.output, opts);
    } catch (err) {
      this.output.rewind(before); // never half a response on the wire
      throw err;
    }
    return this.output.length >= OUTPUT_CHUNK ? this.flush() : null;
  }

  /**
   * Write what `send` gathered (back-pressure: resolves when the transport took it). The chunk is handed over, not
   * reused; literal data of LARGE_LITERAL octets or more goes to the transport as its own array, uncopied.
   */
  async flush(): Promise<void> {
    if (this.output.length === 0) return;
    const parts = this.output.take();
    if (parts.length === 1) return this.io.write(parts[0]!);
    // All handed over at once, in order: a send made while these are written cannot slip between them.
    await Promise.all(parts.map((part) => this.io.write(part)));
  }

  async bye(text: string, code?: { name: string; data?: string }): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    this.state = 'logout';
    this.runCleanups();
    await this.send({ type: 'status', status: 'BYE', ...(code ? { code } : {}), text });
  }

  /** Register something to undo when the session ends; returns a function that runs it early (and only once). */
  onEnd(fn: () => void): () => void {
    const once = runOnce(fn);
    this.cleanups.push(once);
    return once;
  }

  /** The connection is gone (client closed it, or after BYE). */
  onDisconnect(): void {
    this.finished = true;
    this.lineWaiter = null;
    this.runCleanups();
  }

  private runCleanups(): void {
    for (const fn of this.cleanups.splice(0)) {
      try {
        fn();
      } catch (err) {
        this.config.logger.warn({ conn: this.connection.id, err: String(err) }, 'cleanup failed');
      }
    }
  }

  // ----- SessionPort -------------------------------------------------------------------------------------------

  async greet(): Promise<void> {
    const limits = this.config.connectionLimits;
    if (limits) {
      const address = this.connection.remoteAddress;
      if (!limits.admitAddress(address)) {
        this.config.logger.warn({ conn: this.connection.id, remote: address }, 'too many connections from this address');
        this.finished = true;
        this.state = 'logout';
        await this.send({ type: 'status', status: 'BYE', code: { name: 'LIMIT' }, text: 'Too many connections from your address' });
        this.io.close();
        return;
      }
      this.onEnd(() => limits.releaseAddress(address));
    }
    await this.send({
      type: 'status',
      status: 'OK',
      code: { name: 'CAPABILITY', data: capabilities(this).join(' ') },
      text: `${this.config.serverName} ready.`,
    });
  }

  takeTlsRequest(): boolean {
    const r = this.tlsRequested;
    this.tlsRequested = false;
    return r;
  }

  /** Called by STARTTLS after its tagged OK: the pump discards buffered plaintext and upgrades. */
  requestTls(): void {
    this.tlsRequested = true;
  }

  onTlsActive(serverName?: string): void {
    this.connection.tls = true;
    if (serverName) this.connection.serverName = serverName;
  }

  async onRefused(tag: string | null, text: string, code?: string): Promise<void> {
    if (tag === null) await this.send({ type: 'status', status: 'BAD', text });
    else await this.send({ type: 'tagged', tag, status: 'NO', text, ...(code ? { code: { name: code } } : {}) });
  }

  async onFatal(text: string): Promise<void> {
    await this.bye(text);
  }

  idleTimeoutMs(): number {
    return this.state === 'not-authenticated' ? this.config.preAuthTimeoutMs : this.config.idleTimeoutMs;
  }

  async onIdleTimeout(): Promise<void> {
    await this.bye('Autologout; idle for too long');
  }

  async shutdown(text: string): Promise<void> {
    if (this.finished) return;
    if (this.running || this.lineWaiter) {
      this.byeAfterCommand = text;
      if (this.lineWaiter && !this.running) await this.finishShutdown();
      return;
    }
    await this.bye(text);
    this.io.close();
  }

  private async finishShutdown(): Promise<void> {
    const text = this.byeAfterCommand;
    if (text === null) return;
    this.byeAfterCommand = null;
    this.lineWaiter = null;
    await this.bye(text);
    this.io.close();
  }

  // ----- the command loop --------------------------------------------------------------------------------------

  async onFrame(frame: Uint8Array): Promise<void> {
    if (this.finished) return;
    this.running = true;
    try {
      const waiter = this.lineWaiter;
      if (waiter) {
        this.lineWaiter = null;
        await waiter(frame);
      } else {
        await this.runCommand(frame);
      }
    } finally {
      await this.flush();
      this.running = false;
    }
    if (this.byeAfterCommand !== null && !this.finished) await this.finishShutdown();
  }

  /** Make the next frame go to `waiter` instead of the parser (RFC 9051 §6.2.2 continuation responses). */
  waitForLine(waiter: LineWaiter): void {
    this.lineWaiter = waiter;
  }

  private async runCommand(frame: Uint8Array): Promise<void> {
    const parsed = parseCommand(frame, { utf8: this.enabled.has('UTF8=ACCEPT') });
    if (!parsed.ok) {
      if (parsed.unknownCommand && this.state === 'not-authenticated') this.unknownBeforeAuth++;
      await this.answerBad(parsed.tag, parsed.text);
      return;
    }
    await this.execute(parsed.command);
  }

  private async execute(command: Command): Promise<void> {
    // The table is keyed by command type; TypeScript cannot correlate the entry's handler type with `command`.
    const entry = DISPATCH[command.type] as DispatchEntry<CommandType>;
    const { tag } = command;
    if (!entry.states.includes(this.state)) {
      await this.answerBad(tag, `${command.type} is not allowed ${STATE_PHRASE[this.state]}`);
      return;
    }
    if (!entry.handler) {
      await this.send({ type: 'tagged', tag, status: 'NO', code: { name: 'CANNOT' }, text: `${command.type} is not supported by this server yet` });
      return;
    }
    try {
      const done = await entry.handler(this, command);
      if (done === 'deferred' || this.finished && command.type !== 'LOGOUT') return;
      await this.send({ type: 'tagged', tag, status: 'OK', ...(done?.code ? { code: done.code } : {}), text: done?.text ?? `${command.type} completed` });
    } catch (err) {
      await this.answerError(tag, err);
    }
  }

  /** Turn a thrown error into the tagged answer (or BYE). Unexpected errors are our bug: NO [SERVERBUG]. */
  async answerError(tag: string, err: unknown): Promise<void> {
    if (err instanceof ImapError) {
      if (err.kind === 'BYE') {
        await this.bye(err.message, err.code);
        return;
      }
      if (err.kind === 'BAD') {
        await this.answerBad(tag, err.message, err.code);
        return;
      }
      await this.send({ type: 'tagged', tag, status: 'NO', ...(err.code ? { code: err.code } : {}), text: err.message });
      // Once logged in, a store that rejects the credentials (a token that expired, a password changed elsewhere)
      // will reject every later command too, and IMAP has no re-authentication: end the session so the client
      // logs in again. The failed command was not carried out (a JMAP 401 changes nothing).
      if (err.code?.name === 'AUTHENTICATIONFAILED' && this.state !== 'not-authenticated') {
        await this.bye('Your login is no longer accepted by the mail store; please log in again', { name: 'AUTHENTICATIONFAILED' });
      }
      return;
    }
    this.config.logger.error({ conn: this.connection.id, err: String(err), stack: (err as Error)?.stack }, 'command failed');
    await this.send({ type: 'tagged', tag, status: 'NO', code: { name: 'SERVERBUG' }, text: 'Internal error; the command was not completed' });
  }

  private async answerBad(tag: string | null, text: string, code?: { name: string; data?: string }): Promise<void> {
    this.badCount++;
    if (tag === null) await this.send({ type: 'status', status: 'BAD', text });
    else await this.send({ type: 'tagged', tag, status: 'BAD', ...(code ? { code } : {}), text });
    const { maxBadCommands, maxUnknownBeforeAuth } = this.config.limits;
    if (this.unknownBeforeAuth >= maxUnknownBeforeAuth) await this.bye('Too many unknown commands; this does not look like an IMAP client');
    else if (this.badCount >= maxBadCommands) await this.bye('Too many invalid commands');
  }
}

/**
 * `fn` wrapped to run at most once. Returned, not bound to a name: under tsx (esbuild keepNames) a named closure
 * gets its own property store and map, ~330 bytes per idle connection each (issue 8).
 */
function runOnce(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

/** Gathered output is written once it reaches this size (and at the end of each command). */
const OUTPUT_CHUNK = 64 * 1024;
/** Literal data this long is written as it is rather than copied into the output chunk (a whole BODY[]). */
const LARGE_LITERAL = 16 * 1024;
const DONE = Promise.resolve();
const UTF8_ON: EncodeOptions = { utf8: true };
const UTF8_OFF: EncodeOptions = { utf8: false };

const STATE_PHRASE: Record<SessionState, string> = {
  'not-authenticated': 'before authentication',
  authenticated: 'without a selected mailbox',
  selected: 'with a mailbox selected',
  logout: 'after LOGOUT',
};

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}
