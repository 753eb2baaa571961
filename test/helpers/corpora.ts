/**
 * Real-mail corpora for seeding both backends with the same messages (installed by `npm run peers`,
 * .ci/peers.d/40-corpora.sh): jwz's threading test mail (Debian golang-github-gatherstars-com-jwz-dev, 2,403 .eml),
 * enmime's MIME edge cases and the SpamAssassin public corpus (both via test/differential/corpus.ts). `npm test`
 * takes a fixed sample of each; `FULL=1` (npm run test:full) takes everything. Messages are returned as stored on
 * disk minus the mbox `From ` line; seeding converts them to CRLF and drops duplicates (Cyrus merges identical
 * messages into one Email, RFC 8621 §4.8 leaves ids to the server).
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { enmimeMessages, spamAssassinMessages } from '../differential/corpus.ts';

export const JWZ_DIR = '/usr/share/gocode/src/github.com/gatherstars-com/jwz/test/testdata/ham';
export const FULL = Boolean(process.env.FULL);

function stripFromLine(raw: Uint8Array): Uint8Array {
  const head = new TextDecoder('latin1').decode(raw.subarray(0, 5));
  return head === 'From ' ? raw.subarray(raw.indexOf(10) + 1) : raw;
}

/**
 * jwz's messages in file-name order (a mailing-list archive, roughly chronological, so a contiguous run keeps whole
 * threads together); `count` takes the first n (all with FULL=1). null when the package is not installed.
 */
export function jwzMessages(count = Infinity): Uint8Array[] | null {
  if (!existsSync(JWZ_DIR)) return null;
  const files = readdirSync(JWZ_DIR).filter((f) => f.endsWith('.eml')).sort();
  return files.slice(0, FULL ? undefined : count).map((f) => new Uint8Array(stripFromLine(readFileSync(join(JWZ_DIR, f)))));
}

/** Every k-th of `all` so that n are taken (all of them with FULL=1). */
export function spread<T>(all: T[], n: number): T[] {
  if (FULL || all.length <= n) return all;
  const step = all.length / n;
  return Array.from({ length: n }, (_, i) => all[Math.floor(i * step)]!);
}

export interface CorpusSample {
  jwz: Uint8Array[];
  enmime: Uint8Array[];
  spamAssassin: Uint8Array[];
  /** Names of the corpora not installed (a suite reports them loudly, and fails in CI). */
  missing: string[];
}

/** A fixed sample of each corpus: the first `jwz` jwz messages, `enmime` and `spam` spread over their sets. */
export function corpusSample(n: { jwz: number; enmime: number; spam: number }): CorpusSample {
  const jwz = jwzMessages(n.jwz);
  const enmime = enmimeMessages();
  const spam = spamAssassinMessages(FULL);
  const missing = [!jwz && 'jwz', !enmime && 'enmime', !spam && 'SpamAssassin'].filter((x): x is string => Boolean(x));
  return {
    jwz: jwz ?? [],
    enmime: spread((enmime ?? []).map((m) => m.raw), n.enmime),
    spamAssassin: spread((spam ?? []).map((m) => m.raw), n.spam),
    missing,
  };
}

/** Fail in CI, warn loudly elsewhere, when a corpus is missing. */
export function reportMissing(suite: string, missing: string[]): void {
  if (!missing.length) return;
  const msg = `${suite}: corpora not installed: ${missing.join(', ')} (npm run peers)`;
  if (process.env.CI) throw new Error(msg);
  process.stderr.write(`\n!!!!!!!! ${msg}: seeded without them !!!!!!!!\n\n`);
}
