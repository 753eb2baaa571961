/** The scenarios `npm run bench` measures, in order, and those of issue 8 not measured yet (with why). */
import type { Scenario } from '../scenario.ts';
import { fullDownload } from './download.ts';
import { listingCold, listingWarm } from './listing.ts';
import { selectCold, selectWarm } from './select.ts';

export const SCENARIOS: Scenario[] = [listingCold, selectCold, listingWarm, selectWarm, fullDownload];

/** Issue 8 scenarios still to write: each becomes one module above once the gateway serves what it needs. */
export const PENDING: Array<{ scenario: string; reason: string }> = [
  { scenario: 'SEARCH latency (header, TEXT exact / index mode, flag)', reason: 'SEARCH not served by the gateway yet' },
  { scenario: 'APPEND throughput with LITERAL+ (messages/s)', reason: 'APPEND not served by the gateway yet' },
  { scenario: 'IDLE: memory per idle connection at 1,000 / 10,000; change-to-untagged delay', reason: 'IDLE not served by the gateway yet' },
  { scenario: 'Mixed load, 10 clients (LOGIN, SELECT, FETCH, STORE, APPEND, EXPUNGE)', reason: 'STORE, APPEND, EXPUNGE not served yet' },
  { scenario: 'Gateway over Cyrus JMAP vs Cyrus IMAP; the raw JMAP floor', reason: 'Cyrus is not a peer yet (interop issue)' },
  { scenario: 'The generated 100,000-message mailbox', reason: 'supported (--messages 100000) but not run for this report' },
];
