/**
 * The TLS policy and the failed-login throttle seen from a non-loopback address (issue #5 "Must show"): the test
 * makes a network namespace joined to this one by a veth pair (10.200.N.1 here, 10.200.N.2 there), binds the
 * gateway to 10.200.N.1 and runs a Python client inside the namespace.
 * - LOGINDISABLED (RFC 9051 §6.2.3 / §7.2.2) and refused credentials before STARTTLS; after it, AUTH=PLAIN and LOGIN.
 * - STARTTLS injection (RFC 9051 §6.2.1): a LOGIN pipelined after STARTTLS in the same packet is never executed.
 * - Brute force from 10.200.N.2 slows (growing delays) and then blocks that address, while the same user from
 *   another address (10.200.N.1, also not loopback) still logs in.
 * Needs root and `ip netns` (iproute2): without them it fails under CI and says so loudly otherwise.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { startTestBed, type TestBed } from '../helpers/gateway.ts';
import { AuthThrottle } from '../../src/auth/throttle.ts';

const PY = new URL('./auth_netns_client.py', import.meta.url).pathname;
const n = process.pid % 250;
const NS = `gwtest${process.pid}`;
const HOST_IF = `gwh${process.pid}`.slice(0, 15);
const NS_IF = `gwn${process.pid}`.slice(0, 15);
const HOST_IP = `10.200.${n}.1`;
const b64 = (s: string): string => Buffer.from(s, 'latin1').toString('base64');

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function cleanup(): void {
  for (const args of [['netns', 'del', NS], ['link', 'del', HOST_IF]]) {
    try {
      ip(...args);
    } catch {
      /* already gone */
    }
  }
}

/** Make the namespace and the veth pair; null when done, else why it is impossible here. */
function setUp(): string | null {
  try {
    ip('netns', 'add', NS);
    ip('link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF);
    ip('link', 'set', NS_IF, 'netns', NS);
    ip('addr', 'add', `${HOST_IP}/24`, 'dev', HOST_IF);
    ip('link', 'set', HOST_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'addr', 'add', `10.200.${n}.2/24`, 'dev', NS_IF);
    ip('netns', 'exec', NS, 'ip', 'link', 'set', NS_IF, 'up');
    ip('netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up');
    return null;
  } catch (err) {
    cleanup();
    return `${(err as Error).message.split('\n')[0]} ${String((err as { stderr?: Buffer }).stderr ?? '').trim()}`;
  }
}

interface Transcript {
  greeting: string;
  results: Array<{ lines: string[]; ms: number }>;
  closed: boolean;
}
type Step = { send: string; tag: string } | { starttls: true };

/** Run the scripted client, inside the namespace unless `fromHost`. */
function client(port: number, tls: boolean, steps: Step[], fromHost = false): Promise<Transcript> {
  const spec = JSON.stringify({ host: HOST_IP, port, tls, steps });
  const [cmd, args] = fromHost ? ['python3', [PY, spec]] : ['ip', ['netns', 'exec', NS, 'python3', PY, spec]];
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 30_000 }, (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(JSON.parse(out) as Transcript))));
}
const send = (tag: string, text: string): Step => ({ send: `${tag} ${text}\r\n`, tag });
const last = (r: { lines: string[] } | undefined): string => r?.lines.at(-1) ?? '(nothing)';

const problem = setUp();
if (problem !== null) {
  if (process.env.CI) test('network namespace with a veth pair (CI)', () => assert.fail(`cannot make a network namespace: ${problem}`));
  else process.stderr.write(`\n!!!!!!!! cannot make a network namespace (${problem}): auth-netns NOT RUN (needs root and iproute2) !!!!!!!!\n\n`);
} else {
  process.on('exit', cleanup);
  let bed: TestBed;
  before(async () => {
    bed = await startTestBed({
      gateway: {
        host: HOST_IP,
        // 200 ms, then 400, 800...; the third failure from one address blocks it.
        throttle: new AuthThrottle({ baseDelayMs: 200, maxDelayMs: 5000, ipBlockAfter: 3, ipBlockMs: 60_000, windowMs: 60_000, maxEntries: 1000 }),
      },
    });
  });
  after(async () => {
    await bed?.close();
    cleanup();
  });

  test('from 10.200.N.2 in cleartext: LOGINDISABLED, no AUTH=, credentials refused; after STARTTLS: AUTH=PLAIN and LOGIN', async () => {
    const t = await client(bed.imapPort, false, [
      send('a', 'CAPABILITY'),
      send('b', `LOGIN "${bed.user}" "${bed.password}"`),
      send('c', `AUTHENTICATE PLAIN ${b64(`\0${bed.user}\0${bed.password}`)}`),
      send('d', 'STARTTLS'),
      { starttls: true },
      send('e', 'CAPABILITY'),
      send('f', `LOGIN "${bed.user}" "${bed.password}"`),
    ]);
    assert.match(t.greeting, /LOGINDISABLED/);
    assert.doesNotMatch(t.greeting, /AUTH=/);
    const [caps, login, plain, starttls, capsTls, loginTls] = t.results;
    assert.match(caps!.lines[0]!, /^\* CAPABILITY .*\bSTARTTLS\b.*\bLOGINDISABLED\b|^\* CAPABILITY .*\bLOGINDISABLED\b.*\bSTARTTLS\b/);
    assert.doesNotMatch(caps!.lines[0]!, /AUTH=/);
    assert.match(last(login), /^b NO \[PRIVACYVIOLATION\]/);
    assert.match(last(plain), /^c NO /, 'AUTHENTICATE PLAIN is refused too');
    assert.match(last(starttls), /^d OK /);
    assert.match(capsTls!.lines[0]!, /AUTH=PLAIN/);
    assert.doesNotMatch(capsTls!.lines[0]!, /LOGINDISABLED|STARTTLS/);
    assert.match(last(loginTls), /^f OK /);
  });

  test('from 10.200.N.2: a LOGIN pipelined after STARTTLS is discarded, never executed', async () => {
    const t = await client(bed.imapPort, false, [
      { send: `a STARTTLS\r\nb LOGIN "${bed.user}" "${bed.password}"\r\n`, tag: 'a' },
      { starttls: true },
      send('c', 'SELECT INBOX'),
      send('d', 'NOOP'),
    ]);
    assert.match(last(t.results[0]), /^a OK /);
    const after = t.results.slice(1).flatMap((r) => r.lines);
    assert.ok(!after.some((l) => l.startsWith('b ')), `the injected LOGIN got an answer: ${after.join(' | ')}`);
    assert.match(last(t.results[1]), /^c (BAD|NO) /, 'still not logged in: SELECT is refused');
    assert.match(last(t.results[2]), /^d OK /);
  });

  test('brute force from 10.200.N.2 slows, then blocks that address; the same user from 10.200.N.1 still logs in', async () => {
    const t = await client(bed.imapsPort, true, [
      send('f1', `LOGIN "${bed.user}" "guess-1"`),
      send('f2', `LOGIN "${bed.user}" "guess-2"`),
      send('f3', `LOGIN "${bed.user}" "guess-3"`),
      send('f4', `LOGIN "${bed.user}" "${bed.password}"`),
    ]);
    const [f1, f2, f3, f4] = t.results;
    for (const [r, tag] of [[f1, 'f1'], [f2, 'f2'], [f3, 'f3']] as const) assert.match(last(r), new RegExp(`^${tag} NO \\[AUTHENTICATIONFAILED\\]`));
    // Lower bounds only (the throttle's own delays): each failure waits at least twice as long as the one before.
    assert.ok(f1!.ms >= 200 && f2!.ms >= 400 && f3!.ms >= 800, `delays ${f1!.ms}, ${f2!.ms}, ${f3!.ms} ms`);
    assert.match(last(f4), /^\* BYE /, 'blocked: even the right password ends with BYE');
    assert.ok(t.closed, 'the gateway closed the connection');

    const again = await client(bed.imapsPort, true, [send('g', `LOGIN "${bed.user}" "${bed.password}"`)]);
    assert.match(last(again.results[0]), /^\* BYE /, 'a new connection from that address is still blocked');

    const probe = await client(bed.imapPort, false, [], true);
    assert.match(probe.greeting, /LOGINDISABLED/, '10.200.N.1 is not loopback either');
    const other = await client(bed.imapsPort, true, [send('h', `LOGIN "${bed.user}" "${bed.password}"`), send('i', 'SELECT INBOX')], true);
    assert.match(last(other.results[0]), /^h OK /, 'the real user from another address is not locked out');
    assert.match(last(other.results[1]), /^i OK /);
  });
}
