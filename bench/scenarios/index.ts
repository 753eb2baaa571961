/**
 * The scenarios `npm run bench` measures, grouped in suites (each suite = its own targets), and those of issues 4/8
 * not measured yet (with why).
 */
import type { Scenario } from '../scenario.ts';
import type { TargetName } from '../targets.ts';
import { downloadCold, fullDownload } from './download.ts';
import { listingCold, listingWarm } from './listing.ts';
import { selectCold, selectWarm } from './select.ts';
import { appendLiteralPlus } from './append.ts';
import { searchFlag, searchHeader, searchText, searchTextIndex } from './search.ts';
import { mixedLoad } from './mixed.ts';
import { idleDelayScenario, idleMemory10k, idleMemory1k, idleMemoryTls1k } from './idle.ts';
import { floorDownload, floorIds, floorListing } from './floor.ts';
import { SCALE_SCENARIOS } from './scale.ts';

/** Each warm scenario runs right after its cold one, on the same gateway process: warm = it has seen that work. */
export const SCENARIOS: Scenario[] = [
  listingCold, listingWarm, selectCold, selectWarm, downloadCold, fullDownload, appendLiteralPlus,
  searchHeader, searchText, searchTextIndex, searchFlag, mixedLoad, idleDelayScenario, idleMemory1k, idleMemoryTls1k, idleMemory10k,
  floorListing, floorIds, floorDownload,
];

export type SuiteId = 'main' | 'cyrus' | 'scale';

export interface Suite {
  id: SuiteId;
  title: string;
  /** The direct IMAP server the gateway is compared with (ratio = gateway / baseline), or none. */
  baseline: TargetName | null;
  scenarios: Scenario[];
}

export const SUITES: Suite[] = [
  { id: 'main', title: 'Gateway over the embedded store vs Dovecot direct', baseline: 'dovecot', scenarios: SCENARIOS },
  { id: 'cyrus', title: 'Gateway over Cyrus JMAP vs Cyrus IMAP direct (same Cyrus store)', baseline: 'cyrus',
    scenarios: [listingCold, listingWarm, selectCold, selectWarm, downloadCold, fullDownload, floorListing, floorIds, floorDownload] },
  { id: 'scale', title: 'Generated large mailbox (issue 4 scale), gateway over the embedded store', baseline: null, scenarios: SCALE_SCENARIOS },
];

/** Issue 8 scenarios still to write: each becomes one module above once the gateway serves what it needs. */
export const PENDING: Array<{ scenario: string; reason: string }> = [
  { scenario: 'IDLE memory of Cyrus IMAP at 1,000 connections', reason: 'not measured: Cyrus runs in the cyrus suite only for listing/SELECT/download; Dovecot gives the process-per-connection figure' },
  { scenario: 'IDLE change-to-untagged delay over Cyrus', reason: 'not measured: Cyrus answers its EventSource with 204, so the gateway polls (interval-bound, see src/session/watch.ts)' },
];
