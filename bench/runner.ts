/**
 * Runs the scenarios: warm-up rounds (not kept), then measured rounds, interleaving the targets (gateway, Dovecot,
 * then Dovecot, gateway, ...) so drift hits both alike. Keeps every sample, the medians, and the gateway's JMAP
 * costs and memory.
 */
import type { JmapStep, Scenario } from './scenario.ts';
import type { Memory, Target, TargetName } from './targets.ts';

export interface Samples { samples: number[]; median: number }
export interface Measured {
  scenario: Scenario;
  results: Partial<Record<TargetName, Samples>>;
  /** JMAP cost per IMAP command, from the last measured gateway run (it does not vary between runs). */
  jmap: JmapStep[];
  /** `ScenarioResult.extra` of the last measured run, per target. */
  extra: Partial<Record<TargetName, Record<string, number>>>;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export async function runScenarios(
  targets: Target[], scenarios: Scenario[], o: { rounds: number; warmup: number; messages: number; smoke?: boolean; log(msg: string): void },
): Promise<{ measured: Measured[]; gatewayMemory: Memory | null }> {
  const measured: Measured[] = scenarios.map((scenario) => ({ scenario, results: {}, jmap: [], extra: {} }));
  let gatewayMemory: Memory | null = null;
  /** Per target, the scenarios run since it was last made cold (`Scenario.settle`). */
  const ranSinceCold = new Map<Target, Set<string>>();
  for (let round = 0; round < o.warmup + o.rounds; round++) {
    const keep = round >= o.warmup;
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      for (const m of measured) {
        if (m.scenario.targets && !m.scenario.targets.includes(target.name)) continue;
        const cap = m.scenario.maxRounds ?? Infinity;
        if (keep ? round - o.warmup >= cap : round >= Math.min(cap, o.warmup)) continue;
        const ctx = { target, messages: o.messages, smoke: o.smoke ?? false };
        if (m.scenario.cold) { await target.makeCold(); ranSinceCold.set(target, new Set()); }
        const ran = ranSinceCold.get(target) ?? ranSinceCold.set(target, new Set()).get(target)!;
        if (m.scenario.settle && !ran.has(m.scenario.id)) await m.scenario.run(ctx); // unmeasured: see Scenario.settle
        ran.add(m.scenario.id);
        const r = await m.scenario.run(ctx);
        if (!(r.value > 0) || !Number.isFinite(r.value)) throw new Error(`${m.scenario.id} on ${target.name}: value ${r.value}`);
        if (!keep) continue;
        (m.results[target.name] ??= { samples: [], median: 0 }).samples.push(r.value);
        if (r.jmap.length) m.jmap = r.jmap;
        if (r.extra) m.extra[target.name] = r.extra;
      }
      if (target.memory) gatewayMemory = target.memory() ?? gatewayMemory;
      o.log(`${keep ? 'round' : 'warm-up'} ${keep ? round - o.warmup + 1 : round + 1}: ${target.name} done`);
    }
  }
  for (const m of measured) for (const s of Object.values(m.results)) s.median = median(s.samples);
  return { measured, gatewayMemory };
}
