/**
 * The JMAP round-trip budget (DESIGN.md rule 8) over the embedded store, counted on the wire (the scenarios and
 * their bounds: ../helpers/budget-suite.ts). Run twice: with the store's default limits, and with small ones
 * (maxObjectsInGet 50, maxCallsInRequest 4) so that chunking and batching show. The same suite runs over Cyrus in
 * test/interop/cyrus-budget.test.ts.
 */
import { startTestBed } from '../helpers/gateway.ts';
import { budgetMessage, budgetSuite, type CoreLimits } from '../helpers/budget-suite.ts';

const SETUPS: Array<[string, { maxObjectsInGet: number; maxCallsInRequest: number } | undefined]> = [
  ['default limits', undefined],
  ['small limits (maxObjectsInGet 50, maxCallsInRequest 4)', { maxObjectsInGet: 50, maxCallsInRequest: 4 }],
];

for (const [label, storeLimits] of SETUPS) {
  budgetSuite(label, async (wrapFetch, count) => {
    const bed = await startTestBed({ ...(storeLimits ? { storeLimits } : {}), wrapFetch });
    try {
      for (let i = 1; i <= count; i++) {
        bed.store.importMessage(bed.user, 'INBOX', budgetMessage(i), { receivedAt: new Date(Date.UTC(2024, 0, 1) + i * 1000) });
      }
      bed.store.importMessage(bed.user, 'Archive', new TextEncoder().encode('Subject: x\r\n\r\nx\r\n'));
      // The limits the gateway's client sees: the store's JMAP session (RFC 8620 §2).
      const res = await fetch(`${bed.jmapUrl}/.well-known/jmap`, { headers: { Authorization: 'Basic ' + btoa(`${bed.user}:${bed.password}`) } });
      const core = ((await res.json()) as { capabilities: Record<string, CoreLimits> }).capabilities['urn:ietf:params:jmap:core']!;
      if (storeLimits) {
        if (core.maxObjectsInGet !== storeLimits.maxObjectsInGet || core.maxCallsInRequest !== storeLimits.maxCallsInRequest) {
          throw new Error(`the store announces ${JSON.stringify(core)}, not the configured ${JSON.stringify(storeLimits)}`);
        }
      }
      return {
        imapPort: bed.imapPort, user: bed.user, password: bed.password, rawHeaders: false,
        limits: { maxObjectsInGet: core.maxObjectsInGet, maxObjectsInSet: core.maxObjectsInSet, maxCallsInRequest: core.maxCallsInRequest },
        close: () => bed.close(),
      };
    } catch (err) {
      await bed.close();
      throw err;
    }
  });
}
