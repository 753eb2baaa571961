/** The scenarios `npm run bench` measures, in order, and those of issue 8 not measured yet (with why). */
import type { Scenario } from '../scenario.ts';
import { fullDownload } from './download.ts';
import { listingCold, listingWarm } from './listing.ts';
import { selectCold, selectWarm } from './select.ts';
import { appendLiteralPlus } from './append.ts';

/** Each warm scenario runs right after its cold one, on the same gateway process: warm = it has seen that work. */
export const SCENARIOS: Scenario[] = [listingCold, listingWarm, selectCold, selectWarm, fullDownload, appendLiteralPlus];

/** Issue 8 scenarios still to write: each becomes one module above once the gateway serves what it needs. */
export const PENDING: Array<{ scenario: string; reason: string }> = [
  { scenario: 'SEARCH latency (header, TEXT exact / index mode, flag)', reason: 'scenario not written yet (SEARCH is served)' },
  { scenario: 'IDLE: memory per idle connection at 1,000 / 10,000; change-to-untagged delay', reason: 'scenario not written yet (IDLE is served; test/edge/measure-edge.ts measured ~77 kB per idle connection on Node)' },
  { scenario: 'Mixed load, 10 clients (LOGIN, SELECT, FETCH, STORE, APPEND, EXPUNGE)', reason: 'scenario not written yet' },
  { scenario: 'Gateway over Cyrus JMAP vs Cyrus IMAP; the raw JMAP floor', reason: 'scenario not written yet (Cyrus is a peer: test/helpers/cyrus.ts starts one)' },
  { scenario: 'The generated 100,000-message mailbox', reason: 'supported (--messages 100000) but not run for this report' },
];
