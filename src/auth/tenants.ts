/**
 * Tenants: one configuration document (schema/tenants.schema.json) says which JMAP store serves which users and
 * how they may authenticate. A login is routed to a tenant in this order: the TLS SNI name (RFC 6066 §3), then the
 * domain of the user name, then the issuer (`iss`) of a bearer token, then `defaultTenant`. Everything after that
 * happens against that tenant only: its mechanisms, its JWT rules, its JMAP store, and UID-store keys prefixed by
 * its id, so one tenant's users never reach another tenant's store.
 */
import { Validator, type Schema } from '@cfworker/json-schema';
import { decodeJwt } from 'jose';
import schema from '../../schema/tenants.schema.json' with { type: 'json' };
import { JmapBackend } from '../backend/jmap/backend.ts';
import { JmapClient } from '../backend/jmap/client.ts';
import { bearerAuth } from '../backend/jmap/auth.ts';
import { ImapError } from '../protocol/errors.ts';
import { BearerRejected, silentLogger, type AccountContext, type Authenticator, type ConnectionFacts, type Logger } from '../session/context.ts';
import { jmapBasicAuthenticator } from './jmap-basic.ts';
import { BEARER_MECHANISMS, PASSWORD_MECHANISMS, SASL_MECHANISMS, type SaslMechanism } from './sasl.ts';
import { tokenVerifier, TokenRejected, type JwtSettings, type TokenVerifier } from './tokens.ts';
import type { AccountPolicy, CopySemantics, SearchTextMode } from '../session/policy.ts';

/** One tenant (schema `$defs/tenant`). */
export interface TenantConfig {
  /** Prefix of the tenant's UID-store keys. */
  id: string;
  /** The tenant's JMAP Session resource (RFC 8620 §2). */
  jmapSessionUrl: string;
  /** TLS SNI names that select this tenant. */
  hostnames?: string[];
  /** User-name domains (after the last `@`) that select this tenant. */
  domains?: string[];
  /** Accepted SASL mechanisms; default PLAIN + LOGIN, plus OAUTHBEARER + XOAUTH2 when `jwt` is set. */
  mechanisms?: SaslMechanism[];
  /** Credentials only over TLS, even where the listener would accept them in cleartext. */
  requireTls?: boolean;
  /** Bearer-token rules (OAUTHBEARER, XOAUTH2). */
  jwt?: JwtSettings;
  /** Node: certificate and key files served for this tenant's `hostnames` (TLS SNI, RFC 6066 §3). */
  tls?: { certFile: string; keyFile: string };
  /** This tenant's connection limits and failed-login throttling (defaults: the listener's). */
  limits?: TenantLimits;
  /** IMAP COPY as a JMAP label (default) or as an import of a new email (session/policy.ts). */
  copySemantics?: CopySemantics;
  /** SEARCH TEXT/BODY decided exactly in the gateway (default) or by the store's text index (session/policy.ts). */
  searchText?: SearchTextMode;
}

/** Schema `$defs/limits`: absent values keep the listener-wide settings. */
export interface TenantLimits {
  maxConnectionsPerUser?: number;
  maxConnectionsPerAddress?: number;
  throttle?: { baseDelayMs?: number; maxDelayMs?: number; ipBlockAfter?: number; ipBlockMs?: number; windowMs?: number };
}

export interface TenantsDocument {
  defaultTenant?: string;
  tenants: TenantConfig[];
}

/** A misconfigured tenants document: `problems` are one line each, `path: what is wrong`. */
export class TenantConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid tenants configuration:\n  ${problems.join('\n  ')}`);
  }
}

const validator = new Validator(schema as unknown as Schema, '2020-12', false);

/** Validate against the JSON Schema, then the rules a schema cannot say (unique ids and selectors, key source). */
export function parseTenants(doc: unknown): TenantsDocument {
  const result = validator.validate(doc);
  if (!result.valid) {
    // The validator reports each failure and then its enclosing $ref/items/properties; the leaves are the news.
    const leaves = result.errors.filter((e) => !['$ref', 'items', 'properties', 'allOf', '$defs'].includes(e.keyword));
    throw new TenantConfigError([...new Set(leaves.map((e) => `${e.instanceLocation.replace(/^#/, '') || '/'}: ${explain(e)}`))]);
  }
  const d = doc as TenantsDocument;
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const unique = (kind: string, value: string, where: string): void => {
    const key = `${kind}:${value.toLowerCase()}`;
    if (seen.has(key)) problems.push(`${where}: ${kind} "${value}" is already used by ${seen.get(key)}`);
    else seen.set(key, where);
  };
  d.tenants.forEach((t, i) => {
    const where = `/tenants/${i}`;
    unique('id', t.id, where);
    t.hostnames?.forEach((h) => unique('hostname', h, where));
    t.domains?.forEach((h) => unique('domain', h, where));
    if (t.jwt) {
      unique('issuer', t.jwt.issuer, where);
      if (!t.jwt.jwksUrl === !t.jwt.jwks) problems.push(`${where}/jwt: give exactly one of jwksUrl and jwks`);
    }
    if (!t.jwt && t.mechanisms?.some((m) => BEARER_MECHANISMS.includes(m))) {
      problems.push(`${where}/mechanisms: OAUTHBEARER and XOAUTH2 need a jwt section`);
    }
  });
  if (d.defaultTenant !== undefined && !d.tenants.some((t) => t.id === d.defaultTenant)) {
    problems.push(`/defaultTenant: no tenant has id "${d.defaultTenant}"`);
  }
  if (problems.length) throw new TenantConfigError(problems);
  return d;
}

/** The validator's text, plus the pattern itself where it only says "does not match pattern". */
function explain(e: { keyword: string; keywordLocation: string; error: string }): string {
  if (e.keyword !== 'pattern') return e.error;
  return `String does not match the pattern ${String(schemaAt(e.keywordLocation))}.`;
}

/** The schema node at a keyword location, following local `$ref`s (`#/properties/x/$ref/pattern`). */
function schemaAt(location: string): unknown {
  type Node = Record<string, unknown> | undefined;
  const walk = (path: string[]): unknown =>
    path.reduce<unknown>((node, k) => (k === '$ref' ? walk(String((node as Node)?.$ref).replace(/^#\//, '').split('/')) : (node as Node)?.[k]), schema);
  return walk(location.replace(/^#\//, '').split('/'));
}

/** What a login tells about its tenant, in resolution order. */
export interface TenantHints {
  serverName?: string;
  username?: string;
  issuer?: string;
}

/** SNI name, then the user's domain, then the token's issuer, then the default tenant. */
export function resolveTenant(doc: TenantsDocument, h: TenantHints): TenantConfig | null {
  const eq = (a: string, b: string): boolean => a.toLowerCase() === b.toLowerCase();
  const sni = h.serverName;
  const domain = h.username?.includes('@') ? h.username.slice(h.username.lastIndexOf('@') + 1) : undefined;
  return (
    (sni && doc.tenants.find((t) => t.hostnames?.some((n) => eq(n, sni)))) ||
    (domain && doc.tenants.find((t) => t.domains?.some((n) => eq(n, domain)))) ||
    (h.issuer && doc.tenants.find((t) => t.jwt?.issuer === h.issuer)) ||
    doc.tenants.find((t) => t.id === doc.defaultTenant) ||
    null
  );
}

export function tenantMechanisms(t: TenantConfig): readonly SaslMechanism[] {
  return t.mechanisms ?? (t.jwt ? SASL_MECHANISMS : PASSWORD_MECHANISMS);
}

export interface TenantAuthOptions {
  logger?: Logger;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** PLAIN/LOGIN: share a proven login's JMAP client this long (jmap-basic.ts `shareMs`; Node only). */
  shareMs?: number;
}

/** The Authenticator of a multi-tenant gateway: routes each login to its tenant's JMAP store. */
export function tenantAuthenticator(doc: TenantsDocument, o: TenantAuthOptions = {}): Authenticator {
  const log = o.logger ?? silentLogger;
  const basic = new Map<string, Authenticator>();
  const verifiers = new Map<string, TokenVerifier>();
  const refused = (): ImapError => ImapError.no('Authentication failed', 'AUTHENTICATIONFAILED');
  const tlsPolicy = (t: TenantConfig, c: ConnectionFacts | undefined): void => {
    if (t.requireTls && !c?.tls) throw ImapError.no('This account needs TLS; use STARTTLS or the implicit-TLS port', 'PRIVACYVIOLATION');
  };
  const jmapOpts = { ...(o.fetch ? { fetch: o.fetch } : {}), ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}) };
  const basicOpts = { ...jmapOpts, ...(o.shareMs ? { shareMs: o.shareMs } : {}) };

  return {
    mechanisms(c) {
      const t = c.serverName ? resolveTenant({ tenants: doc.tenants }, { serverName: c.serverName }) : null;
      if (t) return tenantMechanisms(t);
      const all = new Set(doc.tenants.flatMap((x) => tenantMechanisms(x)));
      return SASL_MECHANISMS.filter((m) => all.has(m));
    },

    async login(creds, c) {
      const t = resolveTenant(doc, { ...(c?.serverName ? { serverName: c.serverName } : {}), username: creds.username });
      if (!t || !tenantMechanisms(t).includes(creds.mechanism ?? 'PLAIN')) throw refused();
      tlsPolicy(t, c);
      let a = basic.get(t.id);
      if (!a) basic.set(t.id, (a = jmapBasicAuthenticator({ sessionUrl: t.jmapSessionUrl, tenant: t.id, ...basicOpts })));
      return withPolicy(t, await a.login(creds, c));
    },

    async loginBearer(creds, c): Promise<AccountContext> {
      let issuer: string | undefined;
      try {
        issuer = decodeJwt(creds.token).iss;
      } catch {
        issuer = undefined;
      }
      const t = resolveTenant(doc, {
        ...(c.serverName ? { serverName: c.serverName } : {}),
        ...(creds.authzid ? { username: creds.authzid } : {}),
        ...(issuer ? { issuer } : {}),
      });
      if (!t?.jwt || !tenantMechanisms(t).includes(creds.mechanism ?? 'OAUTHBEARER')) throw new BearerRejected({ status: 'invalid_token' });
      tlsPolicy(t, c);
      const hint = { status: 'invalid_token', ...(t.jwt.scope ? { scope: t.jwt.scope } : {}), ...(t.jwt.openidConfiguration ? { openidConfiguration: t.jwt.openidConfiguration } : {}) };
      let v = verifiers.get(t.id);
      if (!v) verifiers.set(t.id, (v = tokenVerifier(t.jwt, o.fetch)));
      let username: string;
      try {
        ({ username } = await v.verify(creds.token));
      } catch (err) {
        if (!(err instanceof TokenRejected)) throw err;
        if (err.reason === 'jwks-unavailable') {
          log.warn({ tenant: t.id, conn: c.id, jwks: t.jwt.jwksUrl, err: err.message }, 'JWKS unavailable: bearer logins fail closed');
          throw ImapError.no('Token keys are temporarily unavailable; try again later', 'UNAVAILABLE');
        }
        log.info({ tenant: t.id, conn: c.id, remote: c.remoteAddress, reason: err.reason }, 'bearer token refused');
        throw new BearerRejected(hint);
      }
      if (creds.authzid && creds.authzid.toLowerCase() !== username.toLowerCase()) {
        throw ImapError.no('The token does not belong to that user', 'AUTHORIZATIONFAILED');
      }
      const client = new JmapClient({ sessionUrl: t.jmapSessionUrl, auth: bearerAuth(creds.token), ...jmapOpts });
      try {
        const backend = await JmapBackend.connect(client);
        return withPolicy(t, { username, accountKey: `${t.id}/${backend.accountId}`, backend });
      } catch (err) {
        if (err instanceof ImapError && err.code?.name === 'AUTHENTICATIONFAILED') throw new BearerRejected(hint);
        throw err;
      }
    },
  };
}

/** The tenant's mapping choices carried by its accounts (session/policy.ts). */
function withPolicy(t: TenantConfig, a: AccountContext): AccountContext {
  const policy: AccountPolicy = {
    ...(t.copySemantics ? { copySemantics: t.copySemantics } : {}),
    ...(t.searchText ? { searchText: t.searchText } : {}),
  };
  return Object.keys(policy).length > 0 ? { ...a, policy } : a;
}
