/**
 * Wire types of JMAP core (RFC 8620) as the client uses them. Only what the gateway reads is typed; servers may
 * send more (RFC 8620 §2: "The client MUST ignore any properties it does not understand").
 */

/** RFC 8620 §3.2 Invocation: `[name, arguments, methodCallId]`. */
export type MethodCall = [name: string, args: Record<string, unknown>, callId: string];

/** RFC 8620 §3.4 response Invocation; `name` is `"error"` for a method-level error (§3.6.2). */
export type MethodResponse = [name: string, args: Record<string, unknown>, callId: string];

/** RFC 8620 §3.7 ResultReference: use a previous call's result as an argument (`#ids`). */
export interface ResultReference {
  resultOf: string;
  name: string;
  /** JSON Pointer (RFC 6901) plus `*` to map through arrays. */
  path: string;
}

/** RFC 8620 §2 `urn:ietf:params:jmap:core` capability: the limits the client must respect (DESIGN.md rule 12). */
export interface CoreLimits {
  maxSizeUpload: number;
  maxConcurrentUpload: number;
  maxSizeRequest: number;
  maxConcurrentRequests: number;
  maxCallsInRequest: number;
  maxObjectsInGet: number;
  maxObjectsInSet: number;
}

/** RFC 8620 §2 Account (the parts we read). */
export interface JmapAccount {
  name: string;
  isPersonal: boolean;
  isReadOnly: boolean;
  accountCapabilities: Record<string, unknown>;
}

/**
 * RFC 8620 §2 Session resource. URLs are resolved against the URL the session was fetched from (after redirects);
 * `downloadUrl`/`uploadUrl` stay URI templates (RFC 6570 level 1), expanded per request.
 */
export interface JmapSession {
  capabilities: Record<string, unknown>;
  accounts: Record<string, JmapAccount>;
  primaryAccounts: Record<string, string>;
  username: string;
  apiUrl: string;
  downloadUrl: string;
  uploadUrl: string;
  eventSourceUrl: string;
  /** RFC 8620 §2 `state`: changes when anything in the session changes; compared with each response's sessionState. */
  state: string;
  /** Parsed core limits, with RFC 8620 §2 suggested minimums for any the server omits. */
  limits: CoreLimits;
  /** The URL the session object was finally served from; base for relative URLs. */
  url: string;
}

/** RFC 8620 §5.3 SetError. */
export interface SetError {
  type: string;
  description?: string;
  properties?: string[];
  /** RFC 8620 §5.4 / RFC 8621 §4.8: id of the existing record on `alreadyExists`. */
  existingId?: string;
}

/** RFC 8620 §6.1 upload response. */
export interface UploadResult {
  blobId: string;
  size: number;
  type: string;
}

/** Capabilities the gateway uses by default (RFC 8620 §9.4.1, RFC 8621 §1.3.1). */
export const CORE = 'urn:ietf:params:jmap:core';
export const MAIL = 'urn:ietf:params:jmap:mail';
/** RFC 9425 §2 */
export const QUOTA = 'urn:ietf:params:jmap:quota';
