/** The scenario suite (./suite.ts) against the gateway over the embedded JMAP store. */
import { embeddedBed } from '../helpers/scenario-bed.ts';
import { defineScenarios, POLL_MS } from './suite.ts';

defineScenarios('the embedded store', () => embeddedBed({ pollIntervalMs: POLL_MS }));
