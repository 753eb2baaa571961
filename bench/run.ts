/**
 * `npm run bench`: the gateway side by side with Dovecot (issue 8), in one run, as ratios.
 *
 *   npm run bench [-- --messages N] [--rounds 5] [--warmup 1] [--out docs/bench] [--no-dovecot] [--smoke]
 *
 * Corpus: the SpamAssassin corpus when `npm run peers` installed it, else (or with --messages N) a generated one.
 * The embedded JMAP store and the gateway run as two child processes; Dovecot is a private instance on a free
 * loopback port; both serve the same messages, in the same order. Writes results.json, README.md and ratios.svg
 * to --out. `--smoke` (run by `npm test`): 50 generated messages, one round, no warm-up, Dovecot only if installed.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findSpamAssassin, loadCorpus, type CorpusSpec } from './corpus.ts';
import { dovecotVersion, startDovecotTarget } from './dovecot.ts';
import { markdown, scenarioReports, svgChart, type BenchReport, type Machine } from './report.ts';
import { runScenarios } from './runner.ts';
import { PENDING, SCENARIOS } from './scenarios/index.ts';
import { startGatewayTarget, type Target } from './targets.ts';

const ROOT = new URL('..', import.meta.url).pathname;

function machine(dovecot: string | null): Machine {
  let commit: string | null = null;
  try { commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { /* not a checkout */ }
  return {
    cpu: os.cpus()[0]?.model.trim() ?? 'unknown', cores: os.cpus().length, memoryGB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`, node: process.version, dovecot, commit,
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { values } = parseArgs({ args: argv, options: {
    smoke: { type: 'boolean', default: false }, messages: { type: 'string' }, rounds: { type: 'string' },
    warmup: { type: 'string' }, out: { type: 'string' }, 'no-dovecot': { type: 'boolean', default: false },
  } });
  const smoke = values.smoke!;
  const log = (msg: string) => console.error(`bench: ${msg}`);
  const saDir = findSpamAssassin();
  const spec: CorpusSpec = smoke ? { kind: 'generated', messages: Number(values.messages ?? 50) }
    : values.messages ? { kind: 'generated', messages: Number(values.messages) }
    : saDir ? { kind: 'spam-assassin', dir: saDir } : { kind: 'generated', messages: 6046 };
  const rounds = Number(values.rounds ?? (smoke ? 1 : 5));
  const warmup = Number(values.warmup ?? (smoke ? 0 : 1));
  const out = resolve(values.out ?? join(ROOT, 'docs', 'bench'));
  const notes: string[] = [];
  if (!smoke && !values.messages && !saDir) notes.push('SpamAssassin corpus not installed (npm run peers): generated messages used instead.');

  const corpus = loadCorpus(spec);
  log(`corpus: ${corpus.name}, ${(corpus.bytes / 1e6).toFixed(1)} MB`);
  const dir = mkdtempSync(join(os.tmpdir(), 'gw-bench-'));
  chmodSync(dir, 0o755);
  const targets: Target[] = [];
  const version = dovecotVersion();
  try {
    const t0 = performance.now();
    const gateway = await startGatewayTarget(join(dir, 'gateway'), spec);
    if (gateway.imported !== corpus.messages.length) throw new Error(`store imported ${gateway.imported} of ${corpus.messages.length}`);
    targets.push(gateway);
    log(`embedded store loaded and gateway up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    if (values['no-dovecot']) notes.push('Dovecot skipped (--no-dovecot): gateway figures only.');
    else if (!version) {
      if (!smoke) throw new Error('Dovecot is not installed: run `npm run peers` as root, or pass --no-dovecot');
      notes.push('Dovecot is not installed: smoke run measured the gateway only.');
    } else {
      try {
        targets.push(await startDovecotTarget(join(dir, 'dovecot'), corpus.messages));
        log(`Dovecot ${version} up`);
      } catch (err) {
        if (!smoke) throw err;
        notes.push(`Dovecot did not start (${(err as Error).message.split('\n')[0]}): smoke run measured the gateway only.`);
      }
    }
    const { measured, gatewayMemory } = await runScenarios(targets, SCENARIOS, { rounds, warmup, messages: corpus.messages.length, log });
    notes.push(
      'Cold: the gateway process is restarted with an empty UID store (it has never seen the mailbox) and warmed by one ' +
        "LOGIN/LOGOUT that does not touch the mailbox; Dovecot keeps running, with INBOX's dovecot.index*, dovecot-uidlist " +
        'and list index deleted between sessions. The OS page cache is warm for both.',
      'Warm: a new connection to a server that has already listed the mailbox.',
      'Folder listing time runs from TCP connect to the tagged OK of the FETCH. SELECT time is the SELECT command alone.',
      'MB/s counts the message literals only. Dovecot sends bare-LF messages with CRLF line ends (more octets); the gateway sends the stored bytes.',
      'Client, gateway, embedded store (and Dovecot) share the same machine and cores; the gateway path has one more process (the JMAP store) than Dovecot.',
    );
    const report: BenchReport = {
      generated: new Date().toISOString(), command: `npm run bench${argv.length ? ' -- ' + argv.join(' ') : ''}`, smoke,
      machine: machine(version), corpus: { name: corpus.name, messages: corpus.messages.length, bytes: corpus.bytes },
      rounds, warmup, targets: targets.map((t) => t.name), scenarios: scenarioReports(measured),
      memory: { gateway: gatewayMemory }, pending: PENDING, notes,
    };
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'results.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(out, 'README.md'), markdown(report));
    writeFileSync(join(out, 'ratios.svg'), svgChart(report));
    for (const s of report.scenarios) {
      log(`${s.id}: gateway ${s.results.gateway?.median.toFixed(2)} ${s.unit}, dovecot ${s.results.dovecot?.median.toFixed(2) ?? 'n/a'}, ratio ${s.ratio?.toFixed(2) ?? 'n/a'}`);
    }
    log(`wrote ${out}/{results.json,README.md,ratios.svg}`);
  } finally {
    await Promise.all(targets.map((t) => t.close().catch(() => undefined)));
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }); // Dovecot's last children may still exit
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
