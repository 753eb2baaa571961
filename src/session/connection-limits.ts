/**
 * Connections per client address and per user (issue #5; RFC 9051 §7.1.5 BYE, RFC 5530 [LIMIT]). One instance per
 * gateway process, shared by all listeners. A connection over the address limit is greeted with
 * `* BYE [LIMIT]`; a login that would pass the user limit is refused with `BYE [LIMIT]` and the connection ends.
 */

export interface ConnectionLimitSettings {
  /** Open connections from one client address (loopback included). */
  perAddress: number;
  /** Logged-in connections of one user (per tenant account). */
  perUser: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimitSettings = { perAddress: 256, perUser: 64 };

export class ConnectionLimits {
  private readonly byAddress = new Map<string, number>();
  private readonly byUser = new Map<string, number>();

  constructor(readonly settings: ConnectionLimitSettings = DEFAULT_CONNECTION_LIMITS) {}

  /** Count a new connection from `address`; false (and nothing counted) when that address is at its limit. */
  admitAddress(address: string): boolean {
    return admit(this.byAddress, address, this.settings.perAddress);
  }

  releaseAddress(address: string): void {
    release(this.byAddress, address);
  }

  /** Count a login of `user` (the account key); false when the user is at its limit. */
  admitUser(user: string): boolean {
    return admit(this.byUser, user, this.settings.perUser);
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
