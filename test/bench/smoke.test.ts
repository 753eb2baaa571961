/**
 * "The benchmarks cannot rot": one pass of `npm run bench -- --smoke` (50 generated messages, one round, Dovecot only
 * when installed) must finish and write results for every scenario with positive figures. Not a speed assertion:
 * speed targets live in the benchmark's report (docs/bench/), never in timed unit tests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchReport } from '../../bench/report.ts';
import { SCENARIOS } from '../../bench/scenarios/index.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

test('npm run bench -- --smoke writes a result for every scenario', { timeout: 120_000 }, () => {
  const out = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke', '--out', out], { cwd: ROOT, encoding: 'utf8', timeout: 110_000, killSignal: 'SIGKILL' });
    assert.equal(r.status, 0, `bench --smoke failed:\n${r.stderr}`);
    const report = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as BenchReport;
    assert.equal(report.smoke, true);
    assert.equal(report.corpus.messages, 50);
    assert.ok(report.targets.includes('gateway'));
    assert.deepEqual(report.scenarios.map((s) => s.id), SCENARIOS.map((s) => s.id));
    for (const s of report.scenarios) {
      for (const target of report.targets) {
        const m = s.results[target];
        assert.ok(m && m.samples.length === 1 && m.median > 0 && Number.isFinite(m.median), `${s.id} on ${target}: ${JSON.stringify(m)}`);
      }
      // The gateway's JMAP traffic is counted per IMAP command: at least one command of each scenario costs requests.
      const counted = s.jmap.find((j) => j.requests > 0 && j.bytesReceived > 0);
      assert.ok(counted, `${s.id}: JMAP cost per command ${JSON.stringify(s.jmap)}`);
      if (report.targets.includes('dovecot')) assert.ok(s.ratio !== null && s.ratio > 0, `${s.id}: ratio ${s.ratio}`);
    }
    assert.ok(report.memory.gateway && report.memory.gateway.rssKB > 0, 'gateway memory measured');
    assert.ok(report.pending.length > 0, 'scenarios not yet measured are listed');
    const md = readFileSync(join(out, 'README.md'), 'utf8');
    for (const s of report.scenarios) assert.ok(md.includes(s.title), `README.md has a row for ${s.id}`);
    assert.match(readFileSync(join(out, 'ratios.svg'), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
