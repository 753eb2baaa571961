/**
 * The one read/write loop between a byte transport and an IMAP session (runtime-neutral).
 *
 * Bytes in -> Framer (lines + literals, limits) -> session, one frame at a time and in order (RFC 9051 §5.5:
 * the server may run pipelined commands, we run them sequentially). The pump answers the framer's own events:
 * `+` for an accepted synchronizing literal (RFC 9051 §7.5), a tagged NO for a refused literal, BYE for a
 * fatal framing error. STARTTLS: once the session asked for it, bytes already buffered are discarded, never
 * executed (RFC 9051 §6.2.1), and the transport is upgraded before anything else is read.
 */
import { Framer } from '../protocol/framer.ts';
import type { Limits } from '../protocol/limits.ts';

/** What the pump needs from a transport (Node socket, workerd socket, test double). */
export interface Transport {
  /** Write bytes; resolves when the transport accepted them (back-pressure: never buffer without bound). */
  write(bytes: Uint8Array): Promise<void>;
  /** Upgrade this connection to TLS in place (STARTTLS). Rejects when the transport cannot. */
  upgradeTls(): Promise<void>;
  /** Close after flushing what was written. */
  close(): void;
}

/** What the session offers the pump. */
export interface SessionPort {
  /** Send the greeting (RFC 9051 §7.1.1 OK/PREAUTH or §7.1.5 BYE). */
  greet(): Promise<void>;
  /** Handle one complete frame (a command, or a continuation line the session is waiting for). */
  onFrame(frame: Uint8Array): Promise<void>;
  /** A command the framer refused (literal too big): answer it tagged, the connection goes on. */
  onRefused(tag: string | null, text: string, code?: string): Promise<void>;
  /** A framing error that ends the connection: send BYE. */
  onFatal(text: string): Promise<void>;
  /** True once the session sent BYE / LOGOUT completed: the pump stops reading. */
  readonly finished: boolean;
  /** True when the session asked for a TLS upgrade after its last frame (STARTTLS OK was sent). */
  takeTlsRequest(): boolean;
}

const LITERAL_CONTINUATION = new TextEncoder().encode('+ Ready for literal data\r\n');

export class Pump {
  private readonly framer: Framer;
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly transport: Transport,
    private readonly session: SessionPort,
    limits?: Limits,
  ) {
    this.framer = new Framer(limits);
  }

  start(): Promise<void> {
    return this.session.greet();
  }

  /** Feed received bytes. Resolves once they are fully processed: the transport should not read more before. */
  feed(chunk: Uint8Array): Promise<void> {
    this.chain = this.chain.then(() => this.process(chunk));
    return this.chain;
  }

  private async process(chunk: Uint8Array): Promise<void> {
    try {
      await this.processEvents(chunk);
    } finally {
      if (this.session.finished) this.transport.close();
    }
  }

  private async processEvents(chunk: Uint8Array): Promise<void> {
    if (this.session.finished) return;
    for (const ev of this.framer.push(chunk)) {
      if (this.session.finished) return;
      switch (ev.type) {
        case 'continue':
          await this.transport.write(LITERAL_CONTINUATION);
          break;
        case 'frame':
          await this.session.onFrame(ev.bytes);
          if (this.session.takeTlsRequest()) {
            this.framer.reset();
            await this.transport.upgradeTls();
            return;
          }
          break;
        case 'reject':
          await this.session.onRefused(ev.tag, ev.text, ev.code);
          break;
        case 'fatal':
          await this.session.onFatal(ev.text);
          return;
      }
    }
  }
}
