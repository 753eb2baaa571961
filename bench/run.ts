/**
 * `npm run bench`: the gateway side by side with Dovecot (issue 8), in one run, as ratios.
 *
 *   npm run bench [-- --messages N] [--rounds 5] [--warmup 1] [--out docs/bench] [--no-dovecot] [--smoke]
 *                    [--suites main,cyrus,scale] [--only id,id] [--scale 100000]
 *
 * Suites (bench/scenarios/index.ts): `main` = gateway over the embedded store vs Dovecot; `cyrus` = gateway over
 * Cyrus JMAP vs Cyrus IMAP on one Cyrus store (seeded over JMAP); `scale` = a generated mailbox of --scale messages
 * (default 100,000) seeded straight into the embedded store, gateway only. `--only` keeps the scenarios with these
 * ids (all suites). In --smoke: 500 messages for scale, tiny IDLE/mixed sizes, and no Cyrus unless --suites names it.
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
import { markdown, scenarioReports, svgChart, type BenchReport, type Machine, type ScenarioReport, type SuiteReport } from './report.ts';
import { runScenarios } from './runner.ts';
import { PENDING, SUITES, type Suite } from './scenarios/index.ts';
import { raiseFileLimit, startGatewayTarget, type Memory, type Target, type TargetName } from './targets.ts';
import { GATEWAY_NODE_FLAGS } from '../src/config/node-flags.ts';

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
    suites: { type: 'string' }, only: { type: 'string' }, scale: { type: 'string' },
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

  // Cyrus is left out of the smoke pass by default: starting and seeding it takes ~20 s, minutes when another suite holds
  // the Cyrus lock; test/bench/cyrus-smoke.test.ts runs `--smoke --suites cyrus` on its own.
  const wanted = new Set((values.suites ?? (smoke ? 'main,scale' : 'main,cyrus,scale')).split(','));
  const only = values.only ? new Set(values.only.split(',')) : null;
  const pick = (suite: Suite): Suite => ({ ...suite, scenarios: suite.scenarios.filter((s) => !only || only.has(s.id)) });
  const scaleMessages = Number(values.scale ?? (smoke ? 500 : 100_000));
  raiseFileLimit(process.pid); // the IDLE scenarios hold 10,000 client sockets here
  const suites: SuiteReport[] = [];
  const scenarios: ScenarioReport[] = [];
  const corpus = loadCorpus(spec);
  log(`corpus: ${corpus.name}, ${(corpus.bytes / 1e6).toFixed(1)} MB`);
  const dir = mkdtempSync(join(os.tmpdir(), 'gw-bench-'));
  chmodSync(dir, 0o755);
  const targets: Target[] = [];
  const version = dovecotVersion();
  try {
    const t0 = performance.now();
    const gateway = await startGatewayTarget(join(dir, 'gateway'), { kind: 'embedded', spec });
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
    const main = pick(SUITES.find((s) => s.id === 'main')!);
    let gatewayMemory: Memory | null = null;
    if (wanted.has('main') && main.scenarios.length) {
      const r = await runScenarios(targets, main.scenarios, { rounds, warmup, messages: corpus.messages.length, smoke, log });
      gatewayMemory = r.gatewayMemory;
      scenarios.push(...scenarioReports(r.measured, 'main', targets.some((t) => t.name === 'dovecot') ? 'dovecot' : null));
      suites.push({ id: 'main', title: main.title, baseline: 'dovecot', messages: corpus.messages.length });
    }
    const names = new Set<TargetName>(targets.map((t) => t.name));
    await Promise.all(targets.splice(0).map((t) => t.close().catch(() => undefined)));
    const cyrusSuite = pick(SUITES.find((s) => s.id === 'cyrus')!);
    if (!wanted.has('cyrus')) {
      log('!!!!!!!! the cyrus suite (gateway over Cyrus JMAP vs Cyrus IMAP) did NOT run in this pass (--suites) !!!!!!!!');
      suites.push({ id: 'cyrus', title: cyrusSuite.title, baseline: 'cyrus', messages: 0,
        notRun: smoke ? 'not part of the smoke pass (test/bench/cyrus-smoke.test.ts runs it alone)' : 'left out with --suites' });
    } else if (cyrusSuite.scenarios.length) {
      // Loaded only when wanted: its helper (test/helpers/cyrus.ts) brings node:test along.
      const { cyrusInstalled, startCyrusTargets } = await import('./cyrus.ts');
      if (!cyrusInstalled()) {
        if (!smoke) throw new Error('Cyrus is not installed (or we are not root): run `npm run peers` as root, or pass --suites main,scale');
        log('!!!!!!!! Cyrus not installed: the cyrus suite did NOT run in this smoke pass !!!!!!!!');
        suites.push({ id: 'cyrus', title: cyrusSuite.title, baseline: 'cyrus', messages: 0, notRun: 'Cyrus is not installed (npm run peers as root)' });
      } else {
        const t1 = performance.now();
        const c = await startCyrusTargets(join(dir, 'gateway-cyrus'), corpus.messages);
        targets.push(c.gateway, c.cyrus);
        try {
          log(`Cyrus seeded with ${c.messages} messages over JMAP in ${((performance.now() - t1) / 1000).toFixed(1)} s`);
          const r = await runScenarios([c.gateway, c.cyrus], cyrusSuite.scenarios, { rounds, warmup, messages: c.messages, smoke, log });
          scenarios.push(...scenarioReports(r.measured, 'cyrus', 'cyrus'));
          suites.push({ id: 'cyrus', title: cyrusSuite.title, baseline: 'cyrus', messages: c.messages });
        } finally {
          targets.splice(0);
          await c.close();
        }
      }
    }
    const scaleSuite = pick(SUITES.find((s) => s.id === 'scale')!);
    if (wanted.has('scale') && scaleSuite.scenarios.length) {
      const t2 = performance.now();
      const big = await startGatewayTarget(join(dir, 'scale'), { kind: 'embedded', spec: { kind: 'generated', messages: scaleMessages } });
      targets.push(big);
      log(`scale: ${big.imported} generated messages seeded into the embedded store in ${((performance.now() - t2) / 1000).toFixed(1)} s`);
      const r = await runScenarios([big], scaleSuite.scenarios, { rounds: Math.min(rounds, 3), warmup: Math.min(warmup, 1), messages: big.imported, smoke, log });
      scenarios.push(...scenarioReports(r.measured, 'scale', null));
      suites.push({ id: 'scale', title: scaleSuite.title, baseline: null, messages: big.imported });
    }
    notes.push(
      'Cold: the gateway process is restarted with an empty UID store (it has never seen the mailbox) and warmed by one ' +
        "LOGIN/LOGOUT that does not touch the mailbox; Dovecot keeps running, with INBOX's dovecot.index*, dovecot-uidlist " +
        'and list index deleted between sessions. The OS page cache is warm for both.',
      'Warm: a new connection to a server that has already listed the mailbox. Warm scenarios that follow a cold one (a restart) ' +
        'first run once unmeasured on each server (Scenario.settle): the figure is a server that has served that request before ' +
        'in this process, not the first repeat after a restart (for the gateway that one pays V8\'s JIT and the cold run\'s garbage: ' +
        '~55 ms instead of ~20-30 ms for the listing, docs/bench/profile.md).',
      'Folder listing time runs from TCP connect to the tagged OK of the FETCH. SELECT time is the SELECT command alone.',
      'MB/s counts the message literals only. Dovecot sends bare-LF messages with CRLF line ends (more octets); the gateway sends the stored bytes.',
      'Client, gateway, embedded store (and Dovecot) share the same machine and cores; the gateway path has one more process (the JMAP store) than Dovecot.',
      `The gateway process runs with the V8 flags of npm start (src/config/node-flags.ts): ${GATEWAY_NODE_FLAGS.join(' ') || 'none'}.`,
      'SEARCH: a warm session (LOGIN, SELECT INBOX done), the UID SEARCH command alone; `hits` in the further figures shows both servers found the same. ' +
        'Exact mode: the gateway decides TEXT over the whole messages (RFC 9051 §6.4.4); index mode: the same search on a second port of the same gateway ' +
          'process configured with `searchText: index` (the store\'s own Email/query `text` filter, RFC 8621 §4.4.1; word-based, hits may differ). ' +
          'Dovecot here has no FTS plugin and reads the messages.',
      'Mixed load: 10 clients for 10 s (2 s in smoke), each in sessions of LOGIN, SELECT INBOX, 5 x [UID FETCH 20 messages (flags, size, 3 headers), ' +
        'APPEND, UID STORE \\Flagged, UID STORE \\Deleted, UID EXPUNGE of the appended message], LOGOUT; tagged responses per second over the run.',
      'IDLE memory: N connections each LOGIN, SELECT `Idle` (10 messages) and IDLE; growth of the proportional set size (Pss) summed over every process of the ' +
        'server (Dovecot: master, login and one imap process per connection) divided by N, on a freshly started gateway. The embedded store (one push stream per ' +
        'account) is not counted. At 10 connections (smoke) the figure is dominated by heap growth and means nothing.',
      'IDLE delay: from sending the change to the idling client reading `* 1 FETCH (FLAGS ...)`: for the gateway the change is an Email/set sent to its JMAP server ' +
        '(a webmail; it reaches the gateway by EventSource push); for Dovecot, UID STORE from a second IMAP session. Median of 5 changes.',
      'JMAP floor: the data of a scenario fetched straight from the JMAP server with the fewest requests (one per page of maxObjectsInGet, Email/query and Email/get ' +
        'chained by result reference), timed from the session request; the ratio compares it with the direct IMAP server\'s figure of the named scenario ' +
        '(listing: warm listing; ids: cold SELECT; download: full download).',
      'Cyrus suite: a throwaway Cyrus 3.6 seeded over JMAP (messages converted to CRLF, duplicates dropped: hence fewer messages); the gateway reads header blocks from ' +
        'the raw message (--header-source raw, docs/interop.md). Cyrus has no cold state to return to: its cold figures are warm. JMAP requests over Cyrus are ' +
        'counted at the gateway\'s fetch (bytes from Content-Length).',
      'Scale suite: a generated mailbox seeded straight into the embedded store\'s SQLite (bench/store-child.ts, repository API, not IMAP). Disk bytes per message = ' +
        'SQLite page_count x page_size / messages; memory per message = the gateway\'s Pss growth over its first SELECT / messages. One round of the folder listing ' +
        'fills the message cache.',
    );
    const report: BenchReport = {
      generated: new Date().toISOString(), command: `npm run bench${argv.length ? ' -- ' + argv.join(' ') : ''}`, smoke,
      machine: machine(version), corpus: { name: corpus.name, messages: corpus.messages.length, bytes: corpus.bytes },
      rounds, warmup, targets: [...names, ...(suites.some((s) => s.id === 'cyrus' && !s.notRun) ? ['cyrus' as const] : [])],
      suites, scenarios,
      memory: { gateway: gatewayMemory }, pending: PENDING, notes,
    };
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'results.json'), JSON.stringify(report, null, 2) + '\n');
    writeFileSync(join(out, 'README.md'), markdown(report));
    writeFileSync(join(out, 'ratios.svg'), svgChart(report));
    for (const s of report.scenarios) {
      log(`${s.suite}/${s.id}: gateway ${s.results.gateway?.median.toFixed(2)} ${s.unit}, ${s.baseline ?? 'baseline'} ${s.baselineMedian?.toFixed(2) ?? 'n/a'}, ratio ${s.ratio?.toFixed(2) ?? 'n/a'}${s.extra.gateway ? ' ' + JSON.stringify(s.extra) : ''}`);
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
