/**
 * "The benchmarks cannot rot": one pass of `npm run bench -- --smoke` (50 generated messages, one round, tiny sizes:
 * 10 IDLE connections, 2 s of mixed load, a 500-message "large" mailbox; Dovecot only when installed; the Cyrus suite
 * is left out, loudly, and run by ./cyrus-smoke.test.ts) must finish and write results for every scenario of
 * every suite with positive figures. Not a speed assertion: speed targets live in the benchmark's report
 * (docs/bench/), never in timed unit tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchReport } from '../../bench/report.ts';
import { SUITES } from '../../bench/scenarios/index.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
/** The bench is a program, not a test file: without the runner's NODE_TEST_CONTEXT, node:test (loaded by a helper) stays out of its way. */
const BENCH_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT'));

test('npm run bench -- --smoke writes a result for every scenario of every suite', { timeout: 240_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], { cwd: ROOT, env: BENCH_ENV, encoding: 'utf8', timeout: 230_000, killSignal: 'SIGKILL' });
    assert.equal(r.status, 0, `bench --smoke failed:\n${r.stderr}`);
    assert.ok(existsSync(join(out, 'results.json')), `bench --smoke wrote no results.json:\n${r.stdout}\n${r.stderr}`);
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchReport;
    assert.equal(report.smoke, true);
    assert.equal(report.corpus.messages, 50);
    assert.ok(report.targets.includes('gateway'));
    assert.deepEqual(report.suites.map((s) => s.id), SUITES.map((s) => s.id));
    for (const suite of SUITES) {
      const ran = report.suites.find((s) => s.id === suite.id)!;
      const rows = report.scenarios.filter((s) => s.suite === suite.id);
      if (ran.notRun) {
        // Only Cyrus is left out of the smoke pass (test/bench/cyrus-smoke.test.ts runs it), and it says so.
        assert.equal(suite.id, 'cyrus', `suite ${suite.id} did not run: ${ran.notRun}`);
        assert.match(r.stderr, /cyrus suite .* did NOT run/);
        assert.equal(rows.length, 0);
        continue;
      }
      assert.deepEqual(rows.map((s) => s.id), suite.scenarios.map((s) => s.id), `suite ${suite.id}`);
      if (suite.id === 'scale') assert.equal(ran.messages, 500);
      for (const s of rows) {
        const scenario = suite.scenarios.find((x) => x.id === s.id)!;
        const targets = (scenario.targets ?? [...report.targets]).filter((t) => t === 'gateway' || t === suite.baseline);
        for (const target of targets) {
          if (target !== 'gateway' && !report.targets.includes(target)) continue;
          const m = s.results[target];
          assert.ok(m && m.samples.length === 1 && m.median > 0 && Number.isFinite(m.median), `${suite.id}/${s.id} on ${target}: ${JSON.stringify(m)}`);
        }
        // The gateway's JMAP traffic is counted per IMAP command, except for the JMAP floor (JMAP timed directly,
        // its request count in `extra`) and the IDLE delay (the change is made by JMAP, not by an IMAP command).
        if (s.id.startsWith('floor-')) assert.ok((s.extra.gateway?.requests ?? 0) > 0, `${s.id}: requests ${JSON.stringify(s.extra)}`);
        else if (s.id !== 'idle-delay') {
          const counted = s.jmap.find((j) => j.requests > 0);
          assert.ok(counted, `${suite.id}/${s.id}: JMAP cost per command ${JSON.stringify(s.jmap)}`);
        }
        if (suite.baseline && report.targets.includes(suite.baseline) && (!scenario.targets || scenario.compareWith)) {
          assert.ok(s.ratio !== null && s.ratio > 0, `${suite.id}/${s.id}: ratio ${s.ratio}`);
        }
      }
    }
    // Both servers answer the same searches with the same hits.
    for (const s of report.scenarios.filter((x) => x.id.startsWith('search-') && x.extra.dovecot)) {
      assert.equal(s.extra.gateway!.hits, s.extra.dovecot!.hits, `${s.id}: hits gateway vs Dovecot`);
    }
    const scale = report.scenarios.find((s) => s.id === 'scale-listing')!;
    assert.ok(scale.extra.gateway!.uidmapBytesPerMessage! > 0 && scale.extra.gateway!.cacheBytesPerMessage! > 0, JSON.stringify(scale.extra));
    assert.ok(report.memory.gateway && report.memory.gateway.rssKB > 0, 'gateway memory measured');
    assert.ok(report.pending.length > 0, 'scenarios not yet measured are listed');
    const md = readFileSync(join(out, 'README.md'), 'utf8');
    for (const s of report.scenarios) assert.ok(md.includes(s.title), `README.md has a row for ${s.id}`);
    assert.match(readFileSync(join(out, 'ratios.svg'), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
