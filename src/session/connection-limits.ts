/**
 * Connections per client address and per user (issue #5; RFC 9051 §7.1.5 BYE, RFC 5530 [LIMIT]). One instance per
 * gateway process, shared by all listeners. A connection over the address limit is greeted with
 * `* BYE [LIMIT]`; a login that would pass the user limit is refused with `BYE [LIMIT]` and the connection ends.
 *
 * Per-tenant limits (tenant property `limits`): once a login names its tenant (the account key is `tenant/account`),
 * that tenant's per-user limit applies, and so does its per-address limit to the connection's address (a tenant may
 * allow fewer or more connections per address than the listener-wide default that admitted the greeting).
 */

export interface ConnectionLimitSettings {
  /** Open connections from one client address (loopback included). */
  perAddress: number;
  /** Logged-in connections of one user (per tenant account). */
  perUser: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimitSettings = { perAddress: 256, perUser: 64 };

/** A tenant's own limits, by tenant id (the account key's prefix); none: the listener-wide settings. */
export type TenantLimitLookup = (tenantId: string) => Partial<ConnectionLimitSettings> | undefined;

export class ConnectionLimits {
  private readonly byAddress = new Map<string, number>();
  private readonly byUser = new Map<string, number>();

  constructor(
    readonly settings: ConnectionLimitSettings = DEFAULT_CONNECTION_LIMITS,
    private readonly tenantLimits?: TenantLimitLookup,
  ) {}

  /** Count a new connection from `address`; false (and nothing counted) when that address is at its limit. */
  admitAddress(address: string): boolean {
    return admit(this.byAddress, address, this.settings.perAddress);
  }

  releaseAddress(address: string): void {
    release(this.byAddress, address);
  }

  /**
   * Count a login of `user` (the account key `tenant/account`); false when the user is at its tenant's limit, or
   * when `address` (already counted at the greeting) holds more connections than the tenant allows per address.
   */
  admitUser(user: string, address?: string): boolean {
    const s = { ...this.settings, ...this.tenantLimits?.(user.slice(0, Math.max(0, user.indexOf('/')))) };
    if (address !== undefined && this.count('address', address) > s.perAddress) return false;
    return admit(this.byUser, user, s.perUser);
  }

  releaseUser(user: string): void {
    release(this.byUser, user);
  }

  /** Connections counted now for an address / user (tests, metrics). */
  count(kind: 'address' | 'user', key: string): number {
    return (kind === 'address' ? this.byAddress : this.byUser).get(key) ?? 0;
  }
}

function admit(map: Map<string, number>, key: string, max: number): boolean {
  const n = map.get(key) ?? 0;
  if (n >= max) return false;
  map.set(key, n + 1);
  return true;
}

function release(map: Map<string, number>, key: string): void {
  const n = (map.get(key) ?? 0) - 1;
  if (n > 0) map.set(key, n);
  else map.delete(key);
}
