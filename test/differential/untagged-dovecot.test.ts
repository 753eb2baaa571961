/**
 * Untagged updates about a session's own writes and others', side by side with Dovecot (a throwaway instance): the
 * same eight messages, two QRESYNC sessions per server (A observed, B the "other" writer), the same commands. What
 * is compared for A's answers (normalized: mod-sequence values and texts are each server's own, Dovecot's rev1
 * `\Recent` is dropped): the UIDs and flags of FETCH FLAGS responses, the UIDs of FETCH responses carrying only
 * UID and MODSEQ (RFC 7162 Example 14), VANISHED UIDs, whether an untagged `OK [HIGHESTMODSEQ]` came, and the
 * tagged status with whether it carries HIGHESTMODSEQ. So the expected answers are Dovecot's, never our own.
 * B's answers are not compared: when a server reports B's pending updates (during STORE, as Dovecot, or at
 * NOOP/EXPUNGE, as the gateway) is left to it by RFC 9051 §7.5.1.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { dovecotVersion } from '../helpers/dovecot.ts';
import { uidsOf } from '../helpers/imap-values.ts';
import { startSideBySide, type SideBySide } from '../helpers/side-by-side.ts';
import { RawClient } from '../helpers/raw-client.ts';

const N = 8;
const T0 = Date.UTC(2024, 0, 1);
const USER = 'own@example.test';
const PASSWORD = 'own-pw';

function message(i: number): Uint8Array {
  return new TextEncoder().encode(`From: u${i}@example.org\r\nSubject: u${i}\r\nMessage-ID: <u${i}@example.org>\r\n\r\nbody ${i}\r\n`);
}

interface Digest {
  flags: Array<[number, string]>;
  modseqOnly: number[];
  vanished: number[];
  highest: boolean;
  tagged: string;
}

function digest(lines: string[]): Digest {
  const d: Digest = { flags: [], modseqOnly: [], vanished: [], highest: false, tagged: '' };
  for (const l of lines) {
    let m: RegExpExecArray | null;
    if ((m = /^\* VANISHED (\S+)$/.exec(l))) d.vanished.push(...uidsOf(m[1]!));
    else if ((m = /^\* \d+ FETCH \(.*UID (\d+).*FLAGS \(([^)]*)\)/.exec(l))) {
      d.flags.push([Number(m[1]), m[2]!.split(' ').filter((f) => f && f !== '\\Recent').map((f) => f.toLowerCase()).sort().join(' ')]);
    } else if ((m = /^\* \d+ FETCH \((?:UID (\d+) MODSEQ \(\d+\)|MODSEQ \(\d+\) UID (\d+))\)$/.exec(l))) d.modseqOnly.push(Number(m[1] ?? m[2]));
    else if (/^\* OK \[HIGHESTMODSEQ \d+\]/.test(l)) d.highest = true;
    else if ((m = /^[A-Za-z0-9.]+ (OK|NO|BAD)( \[HIGHESTMODSEQ \d+\])?/.exec(l))) d.tagged = m[1]! + (m[2] ? ' [HIGHESTMODSEQ]' : '');
  }
  d.flags.sort((x, y) => x[0] - y[0]);
  return d;
}

const version = dovecotVersion();
if (!version) {
  if (process.env.CI) test('untagged updates vs Dovecot: Dovecot is installed (CI)', () => assert.fail('Dovecot imapd missing: run npm run peers as root'));
  else process.stderr.write('\n!!!!!!!! Dovecot imapd missing: untagged-updates differential NOT RUN (npm run peers) !!!!!!!!\n\n');
} else {
  let pair: SideBySide;
  let servers: SideBySide['servers'];

  before(async () => {
    const messages = Array.from({ length: N }, (_, i) => message(i + 1));
    pair = await startSideBySide({ prefix: 'gw-untagged-dovecot-', user: USER, password: PASSWORD, messages, t0: T0 });
    servers = pair.servers;
  });
  after(() => pair?.close());

  /**
   * One step: a command of A or B, or A's IDLE around B's commands (A's lines read until its tagged OK after DONE;
   * DONE is sent once no more lines come: see the wait below).
   */
  type Step = { a: string } | { b: string } | { idle: string[] };
  const steps: Step[] = [
    { a: 'FETCH 1:* (FLAGS)' },
    { a: 'STORE 1 +FLAGS (\\Flagged)' },
    { a: 'NOOP' },
    { a: 'STORE 2 +FLAGS.SILENT (\\Answered)' },
    { a: 'NOOP' },
    { a: 'STORE 3 +FLAGS.SILENT (\\Deleted)' },
    { a: 'NOOP' },
    { a: 'STORE 2 +FLAGS.SILENT (\\Answered)' }, // already set: no new mod-sequence, nothing to say (RFC 7162 §3.1.11)
    { b: 'STORE 1 +FLAGS.SILENT ($other)' },
    { b: 'STORE 5 +FLAGS.SILENT (\\Deleted)' },
    { a: 'NOOP' },
    { a: 'STORE 1 -FLAGS (\\Flagged)' },
    { idle: ['STORE 1 +FLAGS.SILENT ($bar)', 'UID STORE 6:7 +FLAGS.SILENT (\\Deleted)', 'UID EXPUNGE 6:7'] },
    { idle: ['STORE 2 +FLAGS.SILENT ($baz)'] },
    { a: 'NOOP' },
  ];
  const label = (s: Step) => ('a' in s ? `A: ${s.a}` : 'b' in s ? `B: ${s.b}` : `A: IDLE around B: ${s.idle.join('; ')}`);

  async function login(name: keyof typeof servers): Promise<RawClient> {
    const s = servers[name];
    const c = await RawClient.connect(s.port);
    await c.line();
    await c.command('l', `LOGIN "${s.user}" "${s.password}"`);
    await c.command('e', 'ENABLE QRESYNC');
    await c.command('s', 'SELECT INBOX');
    return c;
  }

  /** Whether `got` holds at least the updates of `want` (the same VANISHED UIDs, FETCH UIDs, HIGHESTMODSEQ). */
  const covers = (got: Digest, want: Digest): boolean => want.vanished.every((u) => got.vanished.includes(u))
    && want.flags.every(([u]) => got.flags.some(([g]) => g === u)) && want.modseqOnly.every((u) => got.modseqOnly.includes(u))
    && (!want.highest || got.highest);

  async function run(name: keyof typeof servers, expected?: Digest[]): Promise<Digest[]> {
    const a = await login(name);
    const b = await login(name);
    const out: Digest[] = [];
    try {
      let n = 0;
      for (const step of steps) {
        if ('a' in step) out.push(digest(await a.command(`a${n++}`, step.a)));
        else if ('b' in step) { await b.command(`b${n++}`, step.b); out.push(digest([])); }
        else {
          const tag = `i${n++}`;
          a.write(`${tag} IDLE\r\n`);
          assert.match(await a.line(), /^\+ /);
          for (const cmd of step.idle) await b.command(`b${n++}`, cmd);
          // Dovecot here reports at DONE. The gateway pushes during IDLE, over one or more catch-ups: it gets until
          // it has pushed as much as Dovecot reported (10 s at most, the machine may be busy), then half a second.
          const lines: string[] = [];
          const want = expected?.[out.length];
          const deadline = Date.now() + 10_000;
          while (want && !covers(digest(lines), want) && Date.now() < deadline) {
            try { lines.push(await a.line(deadline - Date.now())); } catch { break; }
          }
          for (;;) {
            try { lines.push(await a.line(want ? 500 : 1000)); } catch { break; }
          }
          a.write('DONE\r\n');
          out.push(digest([...lines, ...(await a.until(tag))]));
        }
      }
    } finally {
      a.close();
      b.close();
    }
    return out;
  }

  test(`untagged updates vs Dovecot ${version}: own changes not repeated, others' reported, .SILENT MODSEQ, HIGHESTMODSEQ after VANISHED in IDLE`, async () => {
    const dove = await run('dovecot');
    const gate = await run('gateway', dove);
    const diffs = steps.flatMap((s, i) => JSON.stringify(dove[i]) === JSON.stringify(gate[i]) ? []
      : [`${label(s)}\n  dovecot: ${JSON.stringify(dove[i])}\n  gateway: ${JSON.stringify(gate[i])}`]);
    assert.deepEqual(diffs, []);
    // The comparison means something: Dovecot's answers hold each kind of update checked.
    assert.ok(dove.some((d) => d.modseqOnly.length > 0) && dove.some((d) => d.highest) && dove.some((d) => d.vanished.length > 0));
  });
}
