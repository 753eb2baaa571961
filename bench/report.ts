/**
 * Benchmark results as JSON (for later comparison), a Markdown page and an SVG bar chart of the ratios
 * gateway / Dovecot (log scale; green where the gateway meets Dovecot, orange where it does not).
 */
import type { Measured } from './runner.ts';
import type { JmapStep } from './scenario.ts';
import type { Memory, TargetName } from './targets.ts';

export interface Machine { cpu: string; cores: number; memoryGB: number; os: string; node: string; dovecot: string | null; commit: string | null }

export interface ScenarioReport {
  /** The suite (bench/scenarios/index.ts SUITES) it was measured in: main, cyrus, scale. */
  suite: string;
  /** The direct IMAP server of the ratio (Dovecot, Cyrus), or null. */
  baseline: TargetName | null;
  id: string;
  title: string;
  unit: string;
  better: 'lower' | 'higher';
  goal: string;
  /** Median and samples per target. */
  results: Partial<Record<TargetName, { median: number; samples: number[] }>>;
  /** gateway median / baseline median (for MB/s above 1 is better, for ms below 1 is better); null without one. */
  ratio: number | null;
  /** The baseline figure of the ratio (this scenario's, or the `compareWith` scenario's). */
  baselineMedian: number | null;
  jmap: JmapStep[];
  /** Further figures of the last measured run, per target (connections, bytes per message, hits...). */
  extra: Partial<Record<TargetName, Record<string, number>>>;
}

/** One suite of the run: its targets and the size of its mailbox, or why it did not run. */
export interface SuiteReport { id: string; title: string; baseline: TargetName | null; messages: number; notRun?: string }

export interface BenchReport {
  generated: string;
  command: string;
  smoke: boolean;
  machine: Machine;
  corpus: { name: string; messages: number; bytes: number };
  rounds: number;
  warmup: number;
  targets: TargetName[];
  suites: SuiteReport[];
  scenarios: ScenarioReport[];
  memory: { gateway: Memory | null };
  pending: Array<{ scenario: string; reason: string }>;
  notes: string[];
}

export function scenarioReports(measured: Measured[], suite = 'main', baseline: TargetName | null = 'dovecot'): ScenarioReport[] {
  return measured.map(({ scenario: s, results, jmap, extra }) => {
    const g = results.gateway?.median;
    const other = s.compareWith ? measured.find((m) => m.scenario.id === s.compareWith)?.results : results;
    const d = baseline ? other?.[baseline]?.median : undefined;
    return {
      suite, baseline, id: s.id, title: s.title, unit: s.unit, better: s.better, goal: s.goal, results, jmap, extra,
      ratio: g !== undefined && d !== undefined ? g / d : null, baselineMedian: d ?? null,
    };
  });
}

const TARGET_TITLE: Record<TargetName, string> = { gateway: 'gateway', dovecot: 'Dovecot', cyrus: 'Cyrus IMAP' };

const fmt = (v: number | undefined, unit = ''): string =>
  v === undefined ? 'n/a' : `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${unit ? ' ' + unit : ''}`;
const kb = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} KB` : `${n} B`);

/** Does the gateway do at least as well as Dovecot? */
const meets = (s: ScenarioReport): boolean => s.ratio !== null && (s.better === 'lower' ? s.ratio <= 1 : s.ratio >= 1);

export function markdown(r: BenchReport): string {
  const m = r.machine;
  const out = [
    `# Benchmark: gateway vs Dovecot and Cyrus${r.smoke ? ' (smoke run)' : ''}`, '',
    `Generated ${r.generated} by \`${r.command}\`${m.commit ? ` at commit ${m.commit.slice(0, 12)}` : ''}.`, '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB RAM, ${m.os}; Node ${m.node}; Dovecot ${m.dovecot ?? 'not installed'}`,
    `- Corpus: ${r.corpus.name}, ${kb(r.corpus.bytes)}`,
    `- ${r.warmup} warm-up round(s), then ${r.rounds} measured round(s), targets interleaved; medians shown.`,
    '', '![ratios](ratios.svg)', '',
    ...(r.suites ?? [{ id: 'main', title: 'Gateway vs Dovecot', baseline: 'dovecot' as const, messages: r.corpus.messages }]).flatMap((suite) => {
      const base = suite.baseline ? TARGET_TITLE[suite.baseline] : '—';
      const rows = r.scenarios.filter((s) => (s.suite ?? 'main') === suite.id);
      return [`### ${suite.title} (${suite.messages.toLocaleString('en-US')} messages)`, '',
        ...(suite.notRun ? [`**Not run:** ${suite.notRun}`, ''] : [
          `| scenario | gateway | ${base} | gateway / ${base} | goal (issues 4, 8) |`, '|---|---|---|---|---|',
          ...rows.map((s) => `| ${s.title} | ${fmt(s.results.gateway?.median, s.unit)} | ${fmt(s.baselineMedian ?? undefined, s.unit)} | ` +
            `${s.ratio === null ? 'n/a' : `${fmt(s.ratio)}x`} (${s.better} is better) | ${s.goal} |`), '']),
      ];
    }),
    '## Further figures (last measured run)', '',
    '| suite | scenario | target | figures |', '|---|---|---|---|',
    ...r.scenarios.flatMap((s) => Object.entries(s.extra ?? {}).map(([t, x]) => `| ${s.suite ?? 'main'} | ${s.id} | ${t} | ` +
      `${Object.entries(x).map(([k, v]) => `${k} ${fmt(v)}`).join(', ')} |`)),
    '', '## JMAP requests per IMAP command (gateway, counted at the store; over Cyrus, at the gateway\'s fetch)', '',
    '| suite | scenario | IMAP command | HTTP requests | request bytes | response bytes |', '|---|---|---|---|---|---|',
    ...r.scenarios.flatMap((s) => s.jmap.map((j) => `| ${s.suite ?? 'main'} | ${s.id} | ${j.command} | ${j.requests} | ${kb(j.bytesSent)} | ${kb(j.bytesReceived)} |`)),
    '', '## Memory', '',
    r.memory.gateway
      ? `Gateway process after the warm scenarios of the last round: RSS ${(r.memory.gateway.rssKB / 1024).toFixed(1)} MB, peak ${(r.memory.gateway.peakKB / 1024).toFixed(1)} MB (the embedded store runs in its own process, not counted).`
      : 'Not measured.',
    '', '## Not yet measured', '',
    ...r.pending.map((p) => `- ${p.scenario}: ${p.reason}`),
    '', '## Notes', '', ...r.notes.map((n) => `- ${n}`), '',
  ];
  return out.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Horizontal bars on a log scale around 1 (parity with Dovecot), one per scenario with a ratio. */
export function svgChart(r: BenchReport): string {
  const rows = r.scenarios.filter((s) => s.ratio !== null);
  const W = 900, left = 440, right = 60, rowH = 30, top = 40;
  const H = top + Math.max(rows.length, 1) * rowH + 40;
  const maxLog = Math.max(1, ...rows.map((s) => Math.abs(Math.log10(s.ratio!)))) ;
  const span = Math.ceil(maxLog);
  const x = (ratio: number) => left + ((Math.log10(ratio) + span) / (2 * span)) * (W - left - right);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="10" y="20" font-size="14" font-weight="bold">gateway / direct IMAP server (log scale; 1 = parity)</text>`,
  ];
  for (let e = -span; e <= span; e++) {
    const gx = x(10 ** e);
    parts.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${H - 30}" stroke="${e === 0 ? '#000' : '#ddd'}"/>`,
      `<text x="${gx}" y="${H - 14}" text-anchor="middle">${10 ** e}x</text>`);
  }
  rows.forEach((s, i) => {
    const y = top + i * rowH;
    const x0 = x(1), x1 = x(s.ratio!);
    const vs = s.baseline && s.baseline !== 'dovecot' ? ` vs ${TARGET_TITLE[s.baseline]}` : '';
    parts.push(`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(s.title.split(/ \(|: /)[0]!)}${vs} (${s.unit}, ${s.better} better)</text>`,
      `<rect x="${Math.min(x0, x1)}" y="${y + 4}" width="${Math.max(1, Math.abs(x1 - x0))}" height="${rowH - 10}" fill="${meets(s) ? '#3a3' : '#e80'}"/>`,
      `<text x="${x1 + (x1 >= x0 ? 4 : -4)}" y="${y + 16}" text-anchor="${x1 >= x0 ? 'start' : 'end'}">${fmt(s.ratio!)}x</text>`);
  });
  if (rows.length === 0) parts.push(`<text x="${left}" y="${top + 16}">no Dovecot figures in this run</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
