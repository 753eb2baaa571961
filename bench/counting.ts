/**
 * An HTTP server that counts the JMAP traffic the gateway makes, for the bench's "JMAP requests and bytes per IMAP
 * command": requests, request body octets (`bytesSent`, what the gateway sent) and response body octets
 * (`bytesReceived`, what it got back), counted where node:http handles them, without re-buffering a response.
 *
 * Request octets: every body chunk node's HTTP parser hands to the request (after any chunked transfer coding is
 * removed, RFC 9112 §7.1), read or not. Response octets: every body chunk written with `write`/`end` (headers are not
 * body). A push stream (RFC 8620 §7.3 EventSource, `/jmap/eventsource`) is not counted: it never ends, and its
 * events are not the answer to an IMAP command. Caveat: a request body the server answered before the body had
 * arrived whole is counted as far as it had arrived (node drops the rest unread).
 */
import { createServer, IncomingMessage, ServerResponse, type RequestListener } from 'node:http';

export interface JmapCounters { requests: number; bytesSent: number; bytesReceived: number }

const octets = (chunk: unknown, encoding: unknown): number =>
  typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
    : chunk instanceof Uint8Array ? chunk.byteLength : 0;

/** A node:http server running `listener`, adding the traffic it serves to `counters`. */
export function countingServer(listener: RequestListener, counters: JmapCounters) {
  class CountedRequest extends IncomingMessage {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- Readable.push's own signature.
    override push(chunk: any, encoding?: BufferEncoding): boolean {
      if (chunk) counters.bytesSent += octets(chunk, encoding);
      return super.push(chunk, encoding);
    }
  }
  class CountedResponse extends ServerResponse {
    private counted(): boolean { return !this.req.url?.startsWith('/jmap/eventsource'); }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- forwards every overload of write().
    override write(chunk: any, ...rest: any[]): boolean {
      if (this.counted()) counters.bytesReceived += octets(chunk, rest[0]);
      return (super.write as (...a: unknown[]) => boolean)(chunk, ...rest);
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- forwards every overload of end().
    override end(...args: any[]): this {
      if (typeof args[0] !== 'function' && this.counted()) counters.bytesReceived += octets(args[0], args[1]);
      return (super.end as (...a: unknown[]) => this)(...args);
    }
  }
  return createServer({ IncomingMessage: CountedRequest, ServerResponse: CountedResponse }, (req, res) => {
    counters.requests++;
    listener(req, res);
  });
}
