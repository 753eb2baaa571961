/**
 * RFC 9404 (JMAP Blob Management) §4.2 `Blob/get` for the gateway: many raw messages in one API request instead of
 * one download (RFC 8620 §6.2) each. Used only when the session offers `urn:ietf:params:jmap:blob` for the
 * account; the octets arrive as `data:asBase64` (RFC 4648 §4), decoded by src/encoding/base64.ts.
 */

/** RFC 9404 §3 capability URN. */
export const BLOB = 'urn:ietf:params:jmap:blob';

