/**
 * V8 flags the gateway runs with on Node: `npm start` (package.json, tsx passes flags before the script on to
 * node) and the bench's gateway child (bench/targets.ts), so the bench measures the gateway as users run it.
 *
 * `--max-semi-space-size=4` (MiB): V8's young generation otherwise grows to 16 MiB per semi-space under a burst
 * of allocation (logins, SELECTs) and keeps those pages: ~32 MB of resident memory that an idle connection's
 * figure carries at 1,000 connections (issue 8, docs/bench/profile.md "IDLE memory"). A gateway's allocations are
 * short-lived (JMAP answers, encoded responses), so scavenges stay cheap at 4 MiB; the bench's CPU per command
 * (listing, mixed load, download) did not change measurably. It must be given at start: V8 sizes the young
 * generation when the heap is set up (`v8.setFlagsFromString` later has no effect on it).
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
