/**
 * One benchmark scenario = one small module exporting a `Scenario`; bench/scenarios/index.ts lists them. The runner
 * (bench/runner.ts) prepares the target (cold or warm), calls `run` and keeps the medians.
 */
import { ImapClient, type CommandResult } from './imap-client.ts';
import { BENCH_PASSWORD, BENCH_USER, type Target, type TargetName } from './targets.ts';

/** JMAP traffic caused by one IMAP command (DESIGN.md rule 8), counted at the embedded store. */
export interface JmapStep { command: string; requests: number; bytesSent: number; bytesReceived: number }

export interface ScenarioContext {
  target: Target;
  /** Messages in INBOX. */
  messages: number;
  /** `--smoke`: scenarios shrink their sizes (connections, durations) so one pass stays fast. */
  smoke: boolean;
}

export interface ScenarioResult {
  value: number;
  /** Gateway only: JMAP requests and octets per IMAP command of the scenario. */
  jmap: JmapStep[];
  /** Further figures of this run (e.g. connections held, bytes per message), reported from the last measured run. */
  extra?: Record<string, number>;
}

export interface Scenario {
  id: string;
  title: string;
  unit: 'ms' | 'MB/s' | 'msg/s' | 'KB/conn' | 'commands/s';
  better: 'lower' | 'higher';
  /** Run against a target that has never seen the mailbox (`Target.makeCold` first). */
  cold: boolean;
  /**
   * A steady-state ("warm") figure: when the target was made cold (restarted) since this scenario last ran on it,
   * run it once unmeasured first, so the measured run is a repeat in a process that has served it before (for the
   * gateway: not the first run of that code path after a restart, which pays V8's JIT and the cold run's garbage).
   * Both targets get the same treatment. Without it, a warm figure right after a cold one is the first repeat.
   */
  settle?: boolean;
  /** The goal from issue 8, as text. */
  goal: string;
  /** The targets it runs on (default: every target of its suite), e.g. gateway-only scale figures. */
  targets?: TargetName[];
  /** Ratio against this other scenario's baseline figure (e.g. the JMAP floor vs Dovecot's IMAP listing). */
  compareWith?: string;
  /** Measured in at most this many rounds (and then in at most as many warm-ups): for the costly ones (10,000 connections). */
  maxRounds?: number;
  run(ctx: ScenarioContext): Promise<ScenarioResult>;
}

/** Thunderbird's folder-listing FETCH (issue 8 scenario 1). */
export const THUNDERBIRD_LISTING = 'UID FETCH 1:* (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date ' +
  'Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])';

/** A session that records the JMAP cost of each command it runs (when the target counts JMAP traffic). */
export class MeasuredSession {
  readonly jmap: JmapStep[] = [];
  private constructor(readonly client: ImapClient, private readonly target: Target) {}

  static async open(target: Target): Promise<MeasuredSession> {
    return new MeasuredSession(await ImapClient.connect(target.port), target);
  }

  /** Runs one command (OK required), labelled `label` in the JMAP table. */
  async run(label: string, command: string, opts: { keepLines?: boolean } = {}): Promise<CommandResult> {
    const before = await this.target.jmap?.();
    const r = await this.client.ok(command, opts);
    const after = await this.target.jmap?.();
    if (before && after) {
      this.jmap.push({ command: label, requests: after.requests - before.requests,
        bytesSent: after.bytesSent - before.bytesSent, bytesReceived: after.bytesReceived - before.bytesReceived });
    }
    return r;
  }

  login(): Promise<CommandResult> {
    const { user, password } = this.target.login ?? { user: BENCH_USER, password: BENCH_PASSWORD };
    return this.run('LOGIN', `LOGIN "${user}" "${password}"`);
  }

  /** SELECT INBOX, checking that EXISTS is the corpus size. */
  async select(messages: number): Promise<CommandResult> {
    const r = await this.run('SELECT INBOX', 'SELECT INBOX', { keepLines: true });
    const exists = r.lines.map((l) => /^\* (\d+) EXISTS/i.exec(l)?.[1]).find((n) => n !== undefined);
    if (Number(exists) !== messages) throw new Error(`SELECT INBOX: EXISTS ${exists}, expected ${messages}`);
    return r;
  }

  close(): Promise<void> {
    return this.client.logout();
  }
}

export function expectFetches(r: CommandResult, n: number, what: string): void {
  if (r.fetches !== n) throw new Error(`${what}: ${r.fetches} FETCH responses, expected ${n}`);
}
