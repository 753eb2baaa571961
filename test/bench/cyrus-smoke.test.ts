/**
 * The benchmark's Cyrus suite cannot rot either: `npm run bench -- --smoke --suites cyrus` (50 generated messages
 * seeded into a throwaway Cyrus over JMAP, one round) must give positive figures for the gateway over Cyrus JMAP and
 * for Cyrus IMAP direct in every scenario of the suite. Needs Cyrus (a failing test in CI without it, a loud notice
 * elsewhere: test/helpers/cyrus.ts cyrusAvailable). Not a speed assertion.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchReport } from '../../bench/report.ts';
import { SUITES } from '../../bench/scenarios/index.ts';
import { cyrusAvailable } from '../helpers/cyrus.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The bench is a program, not a test file: without the runner's NODE_TEST_CONTEXT, node:test (loaded by a helper) stays out of its way. */
const BENCH_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));

if (cyrusAvailable('bench cyrus smoke')) {
  test('npm run bench -- --smoke --suites cyrus: gateway over Cyrus JMAP and Cyrus IMAP, every scenario', { timeout: 600_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), 'bench-cyrus-smoke-'));
    try {
      // Minutes are possible: another suite may hold the Cyrus lock (one instance at a time on this machine).
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--suites', 'cyrus', '--out', out],
        { cwd: ROOT, env: BENCH_ENV, encoding: 'utf8', timeout: 590_000, killSignal: 'SIGKILL' });
      assert.equal(r.status, 0, `bench --smoke --suites cyrus failed:\n${r.stderr}`);
      const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchReport;
      const suite = SUITES.find((s) => s.id === 'cyrus')!;
      assert.deepEqual(report.suites.map((s) => [s.id, s.notRun]), [['cyrus', undefined]]);
      // Duplicates are dropped before seeding (Cyrus merges identical messages); the generated ones are all distinct.
      assert.equal(report.suites[0]!.messages, 50);
      assert.deepEqual(report.scenarios.map((s) => s.id), suite.scenarios.map((s) => s.id));
      for (const s of report.scenarios) {
        const g = s.results.gateway;
        assert.ok(g && g.median > 0 && Number.isFinite(g.median), `${s.id} gateway: ${JSON.stringify(g)}`);
        assert.ok(s.ratio !== null && s.ratio > 0, `${s.id}: ratio against Cyrus IMAP ${s.ratio}`);
        if (s.id.startsWith('floor-')) assert.ok((s.extra.gateway?.requests ?? 0) > 0, `${s.id}: ${JSON.stringify(s.extra)}`);
        else {
          assert.ok(s.results.cyrus && s.results.cyrus.median > 0, `${s.id} cyrus: ${JSON.stringify(s.results.cyrus)}`);
          assert.ok(s.jmap.some((j) => j.requests > 0), `${s.id}: JMAP requests counted at the gateway's fetch ${JSON.stringify(s.jmap)}`);
        }
      }
      assert.match(readFileSync(join(out, 'README.md'), 'utf8'), /Gateway over Cyrus JMAP vs Cyrus IMAP direct/);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });
}
