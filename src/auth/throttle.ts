/**
 * Failed-authentication throttling (RFC 9051 §6.2.3 asks servers to make guessing costly; RFC 4954 §4 likewise):
 * each failure delays its NO by a delay that doubles with the failures of that user and of that client address,
 * and an address with too many failures is blocked for a while (its attempts end with BYE). A user is never
 * blocked, only delayed, so an attacker cannot lock the real user out from elsewhere; a success clears the
 * user's count. Memory is bounded: the oldest entries go first.
 *
 * Per-tenant settings (tenant property `limits.throttle`): `tenantSettings(user, serverName)` names the settings of
 * the tenant the attempt was routed to; its delays and block threshold then apply to that failure. Counts stay
 * per user and per address across tenants (an address guessing at two tenants is one guesser).
 */

export interface ThrottleSettings {
  /** Delay of the first failure; doubles per further failure of the same user or address. */
  baseDelayMs: number;
  /** Cap of that delay. */
  maxDelayMs: number;
  /** Failures from one address (within `windowMs`) after which it is blocked. */
  ipBlockAfter: number;
  /** How long a blocked address stays blocked. */
  ipBlockMs: number;
  /** Failures older than this are forgotten. */
  windowMs: number;
  /** Most users plus addresses remembered. */
  maxEntries: number;
}

export const DEFAULT_THROTTLE: ThrottleSettings = {
  baseDelayMs: 2_000,
  maxDelayMs: 30_000,
  ipBlockAfter: 20,
  ipBlockMs: 15 * 60_000,
  windowMs: 15 * 60_000,
  maxEntries: 100_000,
};

/** The throttle settings of the tenant an attempt resolves to (SNI name, then user domain); none: the defaults. */
export type TenantThrottleLookup = (user: string, serverName?: string) => Partial<ThrottleSettings> | undefined;

interface Entry {
  failures: number;
  last: number;
  blockedUntil: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(
    readonly settings: ThrottleSettings = DEFAULT_THROTTLE,
    private readonly now: () => number = () => Date.now(),
    private readonly tenantSettings?: TenantThrottleLookup,
  ) {}

  /** Is this address blocked now? */
  blocked(ip: string): boolean {
    return (this.get(`ip:${ip}`)?.blockedUntil ?? 0) > this.now();
  }

  /** Record a failure; returns how long to wait before answering it (with the settings of the user's tenant). */
  failure(user: string, ip: string, serverName?: string): number {
    const s = { ...this.settings, ...this.tenantSettings?.(user, serverName) };
    const u = this.bump(`user:${user.toLowerCase()}`, s.windowMs);
    const a = this.bump(`ip:${ip}`, s.windowMs);
    if (a.failures >= s.ipBlockAfter) a.blockedUntil = this.now() + s.ipBlockMs;
    const n = Math.max(u.failures, a.failures);
    return Math.min(s.maxDelayMs, s.baseDelayMs * 2 ** Math.min(n - 1, 30));
  }

  /** A successful login clears the user's failures (the address keeps its count until the window passes). */
  success(user: string): void {
    this.entries.delete(`user:${user.toLowerCase()}`);
  }

  private get(key: string, windowMs = this.settings.windowMs): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.blockedUntil <= this.now() && this.now() - e.last > windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  private bump(key: string, windowMs: number): Entry {
    const e = this.get(key, windowMs) ?? { failures: 0, last: 0, blockedUntil: 0 };
    e.failures++;
    e.last = this.now();
    this.entries.delete(key);
    this.entries.set(key, e);
    while (this.entries.size > this.settings.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return e;
  }
}
