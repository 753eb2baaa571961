/**
 * The differential corpus: every message of Debian's enmime test set (golang-github-jhillyerd-enmime-dev, MIME edge
 * cases and malformed mail, installed by .ci/peers.d/40-corpora.sh) plus a fixed sample of the SpamAssassin public
 * corpus (bench/corpus.ts finds it in the peers cache); `FULL=1` takes the whole SpamAssassin corpus.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { findSpamAssassin } from '../../bench/corpus.ts';

export const ENMIME_TESTDATA = '/usr/share/gocode/src/github.com/jhillyerd/enmime/testdata';
/** Default SpamAssassin sample size (every k-th file in name order, so each group is represented). */
export const SPAM_SAMPLE = 150;

export interface CorpusMessage {
  /** Selector used by expectations-dovecot.json: `enmime/mail/x.raw`, `spam-assassin/easy-ham-1/0001.….txt`. */
  name: string;
  raw: Uint8Array;
  /** Count of LF octets not preceded by CR (RFC 5322 §2.1 wants CRLF; Dovecot converts, we keep stored bytes). */
  bareLf: number;
}

function bareLfCount(raw: Uint8Array): number {
  let n = 0;
  for (let k = 0; k < raw.length; k++) if (raw[k] === 10 && raw[k - 1] !== 13) n++;
  return n;
}

function walk(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** enmime's messages: testdata/**\/*.raw and *.golden (encoder output, also whole messages); empty files left out. */
export function enmimeMessages(): CorpusMessage[] | null {
  if (!existsSync(ENMIME_TESTDATA)) return null;
  return walk(ENMIME_TESTDATA)
    .filter((p) => /\.(raw|golden)$/.test(p) && statSync(p).size > 0)
    .map((p) => message(`enmime/${relative(ENMIME_TESTDATA, p)}`, readFileSync(p)));
}

/** SpamAssassin: data/<group>/<file>.txt, the mbox `From ` line dropped (as bench/corpus.ts does). */
export function spamAssassinMessages(full: boolean): CorpusMessage[] | null {
  const dir = findSpamAssassin();
  if (!dir) return null;
  const files: string[] = [];
  for (const group of readdirSync(dir).sort()) {
    if (group.includes('.')) continue;
    for (const f of readdirSync(join(dir, group)).sort()) if (f.endsWith('.txt')) files.push(join(group, f));
  }
  const step = full ? 1 : Math.max(1, Math.floor(files.length / SPAM_SAMPLE));
  const picked = files.filter((_, i) => i % step === 0).slice(0, full ? undefined : SPAM_SAMPLE);
  return picked.map((f) => {
    const raw = readFileSync(join(dir, f));
    const start = raw.subarray(0, 5).toString('latin1') === 'From ' ? raw.indexOf(10) + 1 : 0;
    return message(`spam-assassin/${f}`, raw.subarray(start));
  });
}

function message(name: string, bytes: Uint8Array): CorpusMessage {
  const raw = new Uint8Array(bytes);
  return { name, raw, bareLf: bareLfCount(raw) };
}
