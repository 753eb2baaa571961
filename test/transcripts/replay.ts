/**
 * Golden-transcript player shared by the transcript suites. Lines:
 * - `C: text` sends text + CRLF (UTF-8); a `\r\n` written in the text sends a line end (literal data); `C:` alone
 *   sends an empty line.
 * - `S: text` expects the next server line to match: `…` matches any text, everything else byte for byte.
 * - `T: text` the same for a tagged line, skipping untagged lines before it.
 * `{NAME}` placeholders are replaced from `vars` first (e.g. {USER} -> "alice@example.test").
 */
import assert from 'node:assert/strict';
import { RawClient } from '../helpers/raw-client.ts';

export function linePattern(expected: string): RegExp {
  return new RegExp('^' + expected.split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*?') + '$');
}

export async function play(c: RawClient, transcript: string, vars: Record<string, string> = {}): Promise<void> {
  for (const raw of transcript.trim().split('\n').map((l) => l.trim())) {
    const line = Object.entries(vars).reduce((l, [k, v]) => l.replaceAll(`{${k}}`, v), raw);
    if (line === 'C:') c.write('\r\n');
    else if (line.startsWith('C: ')) c.write(Buffer.from(line.slice(3).replaceAll('\\r\\n', '\r\n') + '\r\n', 'utf8'));
    else if (line.startsWith('S: ') || line.startsWith('T: ')) {
      let got = await c.line();
      while (line.startsWith('T: ') && got.startsWith('* ')) got = await c.line();
      assert.match(got, linePattern(line.slice(3)), `expected ${line}`);
    }
  }
}

/** Connect, log in (tag `L`), play the transcript, close. */
export async function playLoggedIn(port: number, user: string, password: string, transcript: string): Promise<void> {
  const c = await RawClient.connect(port);
  await c.line(); // greeting
  c.write(`L LOGIN "${user}" "${password}"\r\n`);
  await c.until('L');
  try {
    await play(c, transcript);
  } finally {
    c.close();
  }
}
