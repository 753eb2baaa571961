/**
 * The Cyrus comparison (issue 8): a throwaway Cyrus 3.6 (test/helpers/cyrus.ts startCyrus) seeded over JMAP (blob
 * upload + Email/import in batches; Cyrus refuses bare LF, so messages are converted to CRLF first, and byte-identical
 * messages are dropped first because Cyrus merges them), then two targets on the same store: `cyrus` (its own IMAP)
 * and `gateway` (a gateway child over Cyrus's JMAP, header blocks from the raw message: docs/interop.md quirk 5).
 */
import { cyrusInstalled, dedupe, seedViaJmap, startCyrus, toCrlf } from '../test/helpers/cyrus.ts';
import { startGatewayTarget, type Target } from './targets.ts';

export { cyrusInstalled };

export interface CyrusTargets { gateway: Target; cyrus: Target; messages: number; close(): Promise<void> }

export async function startCyrusTargets(dir: string, corpus: Uint8Array[]): Promise<CyrusTargets> {
  const c = await startCyrus();
  try {
    const messages = dedupe(corpus.map(toCrlf));
    await seedViaJmap(c.jmapSessionUrl, c.user, c.password, messages, { concurrency: 4 });
    const account = { sessionUrl: c.jmapSessionUrl, user: c.user, password: c.password };
    const gateway = await startGatewayTarget(dir, { kind: 'external', account, imported: messages.length }, { tenant: 'cyrus', headerSource: 'raw' });
    gateway.login = { user: c.user, password: c.password };
    const cyrus: Target = {
      name: 'cyrus', port: c.imapPort, login: { user: c.user, password: c.password },
      /** Cyrus keeps its indexes (they are its store): no cold state to return to; cold = warm for Cyrus. */
      async makeCold() {},
      pssKB: () => 0,
      close: async () => {},
    };
    return {
      gateway, cyrus, messages: messages.length,
      async close() { await gateway.close(); await c.stop(); },
    };
  } catch (err) {
    await c.stop();
    throw err;
  }
}
