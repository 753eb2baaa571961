/**
 * Per-tenant limits (tenant property `limits`, schema `$defs/limits`) as the lookups ConnectionLimits and
 * AuthThrottle take: each absent value keeps the listener-wide default.
 */
import type { ConnectionLimitSettings, TenantLimitLookup } from '../session/connection-limits.ts';
import type { TenantThrottleLookup } from './throttle.ts';
import { resolveTenant, type TenantsDocument } from './tenants.ts';

/** Connection limits by tenant id (the account key's prefix). */
export function tenantLimitLookup(doc: TenantsDocument): TenantLimitLookup {
  return (id) => {
    const l = doc.tenants.find((t) => t.id === id)?.limits;
    if (!l) return undefined;
    const s: Partial<ConnectionLimitSettings> = {};
    if (l.maxConnectionsPerUser !== undefined) s.perUser = l.maxConnectionsPerUser;
    if (l.maxConnectionsPerAddress !== undefined) s.perAddress = l.maxConnectionsPerAddress;
    return s;
  };
}

/** Throttle settings of the tenant a failed attempt was routed to (SNI name, then the user's domain, then default). */
export function tenantThrottleLookup(doc: TenantsDocument): TenantThrottleLookup {
  return (user, serverName) => resolveTenant(doc, { ...(serverName ? { serverName } : {}), username: user })?.limits?.throttle;
}
