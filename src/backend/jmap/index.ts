/** JMAP (RFC 8620/8621) client and MailBackend implementation. */
export { JmapClient, responseOf, parseSession, retryAfterMs, type JmapClientOptions } from './client.ts';
export { basicAuth, bearerAuth, type JmapAuth } from './auth.ts';
export { JmapBackend } from './backend.ts';
export { JMAP_ERROR_TO_IMAP, jmapError, unavailable, type ImapMapping } from './errors.ts';
export { ref, refArg, pointerToken } from './refs.ts';
export { expandTemplate } from './uri-template.ts';
export * from './types.ts';
