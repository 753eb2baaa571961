/**
 * The Worker's bindings and variables (wrangler.toml `[vars]`, secrets, `[[durable_objects.bindings]]`,
 * `[[kv_namespaces]]`). Strings because that is what workerd passes for text bindings.
 */
import type { DurableObjectNamespace, KVNamespace } from './cf.ts';

export interface EdgeEnv {
  /** The UidStoreDO namespace: one object per account, plus the UIDVALIDITY allocator. */
  UID_STORE: DurableObjectNamespace;
  /** Read-only tenant configuration: key `tenants` holds a tenants document (schema/tenants.schema.json). */
  TENANTS?: KVNamespace;
  /** Single-tenant setup when KV has no `tenants` document: the JMAP Session URL and the tenant id. */
  JMAP_SESSION_URL?: string;
  TENANT?: string;
  /** Bearer token of the UID store HTTP API (a secret); the API is off without it. */
  UID_API_TOKEN?: string;
  /**
   * "true" when every inbound connection arrives through a TLS terminator (the only way credentials may be sent:
   * workerd's inbound sockets carry no TLS and cannot do STARTTLS). Default "false": LOGINDISABLED.
   */
  TLS_TERMINATED?: string;
  /** Byte bound of each account's message cache in its object; default 32 MiB. */
  CACHE_MAX_BYTES?: string;
  /** Wait before answering a failed login (ms); default 2000. */
  AUTH_FAILURE_DELAY_MS?: string;
}
