/**
 * Carrying UID-store errors across the edge boundaries. Durable Object RPC (and our HTTP API) keep only an
 * error's message, so a store error travels as `[CODE] text` and becomes the same `ImapError` (`NO [CODE] text`,
 * RFC 9051 §7.1) on the other side. Anything else is the store being unreachable: `NO [UNAVAILABLE]` (RFC 5530).
 */
import { ImapError, type ResponseCodeName } from '../protocol/errors.ts';

/** The codes a UID store may answer with; everything else is mapped to UNAVAILABLE. */
const STORE_CODES: ReadonlySet<string> = new Set<ResponseCodeName>(['LIMIT', 'SERVERBUG', 'UNAVAILABLE']);

/** `[CODE] text`: the wire form of a store error. */
export function encodeStoreError(err: unknown): string {
  if (err instanceof ImapError) return `[${err.code?.name ?? 'UNAVAILABLE'}] ${err.message}`;
  return `[UNAVAILABLE] UID store unavailable: ${err instanceof Error ? err.message : String(err)}`;
}

/** The ImapError a wire message (or any thrown value) stands for. */
export function decodeStoreError(err: unknown): ImapError {
  if (err instanceof ImapError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const m = /\[([A-Z-]+)\] (.*)$/s.exec(message);
  if (m && STORE_CODES.has(m[1]!)) return ImapError.no(m[2]!, m[1] as ResponseCodeName);
  return ImapError.no(`UID store unavailable: ${message}`, 'UNAVAILABLE');
}
