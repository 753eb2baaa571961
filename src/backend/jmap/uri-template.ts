/**
 * RFC 6570 level 1 (simple string expansion) as used by the JMAP session's downloadUrl/uploadUrl (RFC 8620 §2):
 * every `{var}` is replaced by the value with all characters outside RFC 3986 "unreserved" percent-encoded (UTF-8).
 */
export function expandTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\{([A-Za-z0-9_.%]+)\}/g, (_, name: string) => encodeUnreserved(vars[name] ?? ''));
}

/** Percent-encode all but ALPHA / DIGIT / "-" / "." / "_" / "~" (RFC 3986 §2.3). */
export function encodeUnreserved(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
