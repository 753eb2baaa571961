/**
 * workerd adapter: serves one inbound TCP connection (a Worker's `connect(socket)` handler) with the runtime-neutral
 * pump and session, over the socket's Web Streams. It only moves bytes, like the Node adapter (node.ts):
 * - back-pressure: the next chunk is read only once the pump processed the previous one; writes await the writer.
 * - no STARTTLS: workerd's inbound sockets have no TLS (the listener sits behind a TLS terminator), so the session
 *   must be told `starttls: false`; an upgrade request is refused.
 * - inactivity (RFC 9051 §5.4): a timer armed while waiting for the client, with the session's current timeout.
 */
import { Pump, type SessionPort, type Transport } from './pump.ts';
import type { Limits } from '../protocol/limits.ts';

/** The workerd socket, as far as the adapter uses it (Cloudflare `Socket`). */
export interface StreamSocket {
  readonly readable: ReadableStream<Uint8Array>;
  readonly writable: WritableStream<Uint8Array>;
  close(): Promise<void>;
}

/** What the adapter needs from a session beyond the pump's port (the Session class offers all of it). */
export interface StreamSession extends SessionPort {
  onIdleTimeout(): Promise<void>;
  idleTimeoutMs(): number;
  onDisconnect(): void;
}

/** Serve `socket` until either side closes it. `makeSession` gets the session's output (write + close). */
export async function serveStreamSocket(
  socket: StreamSocket,
  makeSession: (io: { write(bytes: Uint8Array): Promise<void>; close(): void }) => StreamSession,
  limits?: Limits,
): Promise<void> {
  const reader = socket.readable.getReader();
  const writer = socket.writable.getWriter();
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const transport: Transport = {
    async write(bytes) {
      if (closed) return;
      try {
        await writer.write(bytes);
      } catch {
        transport.close();
      }
    },
    upgradeTls() {
      return Promise.reject(new Error('STARTTLS is not available on workerd sockets'));
    },
    close() {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      // Flush what was written, then close both directions; a pending read then ends.
      void writer.close().catch(() => undefined).finally(() => {
        void reader.cancel().catch(() => undefined);
        void socket.close().catch(() => undefined);
      });
    },
  };
  const session = makeSession({ write: (b) => transport.write(b), close: () => transport.close() });
  const pump = new Pump(transport, session, limits);
  const arm = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => void session.onIdleTimeout().finally(() => transport.close()), session.idleTimeoutMs());
  };

  try {
    await pump.start();
    while (!closed) {
      arm();
      const { value, done } = await reader.read();
      if (timer !== undefined) clearTimeout(timer);
      if (done || closed) break;
      await pump.feed(value);
    }
  } catch {
    // A reset connection or a failed write: nothing to answer, the session is cleaned up below.
  } finally {
    session.onDisconnect();
    transport.close();
  }
}
