/**
 * fetchmail 6.4 and getmail6 6.18 download every message of INBOX through the gateway over implicit TLS with a
 * password, on both backends (embedded store and Cyrus JMAP), each message handed to an MDA that writes it to a file.
 * Each file must hold exactly the bytes the JMAP store holds for that message (its blob, RFC 8620 §6.2), up to the
 * documented transformations of each client, and nothing else:
 * - fetchmail (`set invisible`: no Received line; `no rewrite`, `no stripcr`) passes CRLF messages through byte for
 *   byte. It fetches RFC822.HEADER and BODY.PEEK[TEXT] separately and writes its own CRLF between them, and ends a
 *   message that lacks a final line end with CRLF (it delivers like an MTA).
 * - getmail6 re-serializes each message with Python's email generator in the platform's line ends (LF) and always
 *   prepends `Return-Path: <sender>` (`<unknown>` without a Return-Path or Sender field); with `received`,
 *   `delivered_to` and `record_mailbox` off it adds nothing else.
 * The seed: 12 generated messages (multipart, 8-bit UTF-8 bodies), an 8-bit header, dot-stuffing and `From ` lines,
 * a message without a final line end, and on the embedded store a bare-LF message (Cyrus refuses those on import).
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backends, clientTest, type Backend, type ClientBed } from './beds.ts';
import { clientAvailable, makeMessage, messageIdOf, run } from './harness.ts';

const enc = new TextEncoder();
const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

/** The messages of the seed (raw bytes), by backend. */
function seed(backend: Backend): Uint8Array[] {
  const out = Array.from({ length: 12 }, (_, i) => makeMessage('dl', i));
  out.push(
    enc.encode('From: A <a@example.test>\r\nSubject: 8-bit h\u00e9ader\r\nMessage-ID: <eight.1@clients.test>\r\n\r\nbody \u00e9\r\n'),
    enc.encode('From: a@example.test\r\nSubject: dots\r\nMessage-ID: <dots.1@clients.test>\r\n\r\nline\r\n.\r\n..two\r\nFrom the start\r\ntrailing  \r\n'),
    enc.encode('From: a@example.test\r\nSubject: no final line end\r\nMessage-ID: <nonl.1@clients.test>\r\n\r\nlast line without CRLF'),
  );
  if (backend === 'embedded') out.push(enc.encode('From: a@example.test\nSubject: bare LF\nMessage-ID: <lf.1@clients.test>\n\nline one\n.\nFrom here\n'));
  return out;
}

/** What the store holds: Message-ID -> raw bytes of every INBOX message (Email/query + Email/get blobId + download). */
async function stored(bed: ClientBed): Promise<Map<string, string>> {
  const [[, boxes]] = await bed.jmap([['Mailbox/get', { accountId: bed.accountId, ids: null, properties: ['role'] }, 'm']]) as [[string, { list: Array<{ id: string; role: string | null }> }, string]];
  const inbox = boxes.list.find((b) => b.role === 'inbox')!.id;
  const [, [, got]] = await bed.jmap([
    ['Email/query', { accountId: bed.accountId, filter: { inMailbox: inbox }, limit: 500 }, 'q'],
    ['Email/get', { accountId: bed.accountId, '#ids': { resultOf: 'q', name: 'Email/query', path: '/ids' }, properties: ['blobId', 'messageId'] }, 'g'],
  ]) as [unknown, [string, { list: Array<{ blobId: string; messageId: string[] }> }, string]];
  const out = new Map<string, string>();
  for (const e of got.list) out.set(`<${e.messageId[0]}>`, latin1(await bed.download(e.blobId)));
  return out;
}

/** Files the MDA wrote: Message-ID -> bytes (latin1). */
function delivered(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(dir)) {
    const raw = readFileSync(join(dir, f), 'latin1');
    const id = messageIdOf(raw);
    assert.ok(id && !out.has(id), `${f}: one file per Message-ID`);
    out.set(id, raw);
  }
  return out;
}

/**
 * An MDA script: stdin -> a new file in `out`, then a pause of `lingerS` seconds before exiting. getmail6 6.18.11
 * loses the SIGCHLD wake-up of a child that exits before it starts waiting (baseclasses.py `_child_handler`
 * notifies a Condition nobody waits on yet), and then hangs until its socket timeout: seen in 3 of about 40 runs on
 * a loaded machine, always between two messages. The pause keeps the MDA alive until getmail waits.
 */
function mda(dir: string, out: string, lingerS = 0): string {
  const path = join(dir, 'deliver.sh');
  writeFileSync(path, `#!/bin/sh\ncat > "$(mktemp ${out}/m.XXXXXXXX)" || exit 75\n${lingerS ? `sleep ${lingerS}\n` : ''}`);
  chmodSync(path, 0o755);
  return path;
}

if (clientAvailable('fetchmail', ['fetchmail'])) for (const backend of backends('fetchmail')) {
  clientTest(`fetchmail over IMAPS, ${backend}: downloads every INBOX message byte for byte as stored`, backend, 60_000, async (bed) => {
    const dir = mkdtempSync(join(tmpdir(), 'fetchmail-'));
    try {
      const raws = seed(backend);
      await bed.seed('INBOX', raws);
      mkdirSync(join(dir, 'out'));
      // The certificate names localhost, and fetchmail checks the name it polls (not the IP address).
      writeFileSync(join(dir, 'fetchmailrc'), `set no syslog
set no bouncemail
set invisible
poll localhost service ${bed.imapsPort} protocol IMAP auth password
  user "${bed.user}" password "${bed.password}" is "root" here
  ssl sslcertck sslcertfile "${bed.certPath}"
  folder INBOX
  keep fetchall
  no rewrite
  no stripcr
  mda "${mda(dir, join(dir, 'out'))}"
`);
      chmodSync(join(dir, 'fetchmailrc'), 0o600); // fetchmail refuses a readable rc file
      const r = await run('fetchmail', ['-f', join(dir, 'fetchmailrc'), '--nodetach', '-v'], { timeoutMs: 45_000, env: { HOME: dir } });
      const out = r.stdout + r.stderr;
      assert.equal(r.code, 0, `fetchmail exit status (0: mail delivered)\n${out.slice(-3000)}`);
      assert.match(out, /IMAP> A\d+ LOGIN|IMAP> A\d+ AUTHENTICATE/, 'fetchmail logged in with the password');

      const want = await stored(bed);
      const got = delivered(join(dir, 'out'));
      assert.equal(want.size, raws.length, 'the store holds every seeded message');
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), 'one file per stored message');
      for (const [id, raw] of want) {
        let expect = raw;
        if (id === '<lf.1@clients.test>') expect = raw.replace('\n\n', '\n\r\n'); // its own header/body separator
        if (id === '<nonl.1@clients.test>') expect = `${raw}\r\n`; // ends the last line
        assert.equal(got.get(id), expect, `${id} byte for byte as the store holds it`);
      }
      assert.ok(want.get('<dl.3@clients.test>') === latin1(raws[3]!), 'the store holds the seeded bytes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

if (clientAvailable('getmail6', ['getmail'])) for (const backend of backends('getmail6')) {
  clientTest(`getmail6 over IMAPS, ${backend}: downloads every INBOX message as stored`, backend, 60_000, async (bed) => {
    const dir = mkdtempSync(join(tmpdir(), 'getmail-'));
    try {
      const raws = seed(backend);
      await bed.seed('INBOX', raws);
      for (const d of ['out', 'state']) mkdirSync(join(dir, d));
      writeFileSync(join(dir, 'getmailrc'), `[retriever]
type = SimpleIMAPSSLRetriever
server = localhost
port = ${bed.imapsPort}
username = ${bed.user}
password = ${bed.password}
mailboxes = ("INBOX",)
record_mailbox = false
ca_certs = ${bed.certPath}
# also getmail's wait for its MDA (see mda()): a lost wake-up fails in 20 s with "waiting child pid ... timed out"
timeout = 20

[destination]
type = MDA_external
path = ${mda(dir, join(dir, 'out'), 0.2)}
allow_root_commands = true

[options]
read_all = true
delete = false
received = false
delivered_to = false
message_log_syslog = false
verbose = 1
`);
      // A Debian Python tool: run it with the system interpreter, not whatever python3 is first on PATH.
      const r = await run('/usr/bin/python3', [(await run('sh', ['-c', 'command -v getmail'], { timeoutMs: 5000 })).stdout.trim(), '--getmaildir', join(dir, 'state'), '--rcfile', join(dir, 'getmailrc')], { timeoutMs: 45_000 });
      const out = r.stdout + r.stderr;
      assert.equal(r.code, 0, `getmail exit status\n${out.slice(-3000)}`);
      assert.match(out, new RegExp(`${raws.length} messages \\(\\d+ bytes\\) retrieved`), out.slice(-2000));

      const want = await stored(bed);
      const got = delivered(join(dir, 'out'));
      assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), 'one file per stored message');
      for (const [id, raw] of want) {
        assert.equal(got.get(id), `Return-Path: <unknown>\n${raw.replace(/\r\n/g, '\n')}`, `${id} as stored, in LF line ends, after getmail's Return-Path`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
