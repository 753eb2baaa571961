/**
 * The scenario suite (./suite.ts) against the gateway over a throwaway Cyrus 3.6 JMAP server (one instance for the
 * file, seeded once). Cyrus has no push (EventSource answers 204): IDLE relies on the gateway's polling, set short.
 */
import { cyrusAvailable } from '../helpers/cyrus.ts';
import { cyrusBed } from '../helpers/scenario-bed.ts';
import { defineScenarios, POLL_MS } from './suite.ts';

if (cyrusAvailable('scenarios over Cyrus')) defineScenarios('Cyrus JMAP', () => cyrusBed({ pollIntervalMs: POLL_MS }));
