/**
 * A private Dovecot 2.3 (Debian's dovecot-core + dovecot-imapd, installed by `npm run peers`) on a free loopback
 * port, serving one user's INBOX as a Maildir written directly with the given messages: the exact bytes, file mtime
 * = INTERNALDATE, `S=`/`W=` sizes in the names as Dovecot's own delivery writes them. Used by `npm run bench`
 * (bench/dovecot.ts) and the differential suite (test/differential/). As root, mail belongs to the `vmail` user
 * peers.sh creates; otherwise to the current user. When Cyrus is installed, dovecot-imapd is the .deb unpacked
 * into the peers cache (.ci/unpack-dovecot-imapd.sh: it must be dovecot-core's exact version).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { peersCache } from '../../bench/corpus.ts';

/** Dovecot's libexec folder with imap and imap-login: the package's, or the .deb unpacked by peers.sh (Cyrus case). */
export function dovecotLibexec(): string | null {
  for (const d of ['/usr/lib/dovecot', join(peersCache(), 'dovecot-imapd', 'usr', 'lib', 'dovecot')]) {
    if (existsSync(join(d, 'imap')) && existsSync(join(d, 'imap-login'))) return d;
  }
  return null;
}

/** `2.3.19.1 (9b53102964)` or null when Dovecot is not installed. */
export function dovecotVersion(): string | null {
  try {
    return dovecotLibexec() ? execFileSync('dovecot', ['--version'], { encoding: 'utf8' }).trim() : null;
  } catch {
    return null;
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
    srv.once('error', reject);
  });
}

async function waitFor(check: () => Promise<boolean> | boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const accepts = (port: number) => new Promise<boolean>((resolve) => {
  const s = net.connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
  s.once('error', () => resolve(false));
});

interface Owner { uid: number; gid: number; user: string }

function mailOwner(): Owner {
  const me = userInfo();
  if (me.uid !== 0) return { uid: me.uid, gid: me.gid, user: me.username };
  const id = (flag: string) => Number(execFileSync('id', [flag, 'vmail'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g'), user: 'vmail' };
}

function config(dir: string, port: number, x: string, owner: Owner): string {
  const root = userInfo().uid === 0;
  const services = ['imap-login', 'imap', 'imap-hibernate', 'imap-urlauth', 'imap-urlauth-login', 'imap-urlauth-worker'];
  const chroot = root ? '' : '\n  chroot =';
  return `base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = private-dovecot-${port}
protocols = imap
listen = 127.0.0.1
log_path = ${dir}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = ${Math.min(owner.uid, 100)}
mail_uid = ${owner.uid}
mail_gid = ${owner.gid}
mail_location = maildir:${dir}/mail/%u/Maildir
${root ? '' : `default_internal_user = ${owner.user}\ndefault_login_user = ${owner.user}\n`}passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${owner.uid} gid=${owner.gid} home=${dir}/mail/%u
}
${services.map((s) => `service ${s} {
  executable = ${x}/${s}${s === 'imap-login' ? `${chroot}
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }` : ''}
}`).join('\n')}
${root ? '' : 'service anvil {\n  chroot =\n}\n'}protocol imap {
  mail_max_userip_connections = 10000
}
`;
}

/**
 * The Maildir of INBOX: one file per message in cur/, named as Dovecot names its own deliveries. The names sort in
 * message order (same-width timestamps, then the index), which is the order Dovecot assigns UIDs in.
 */
function writeMaildir(maildir: string, messages: Uint8Array[], internalDateMs: (i: number) => number): void {
  for (const sub of ['cur', 'new', 'tmp']) mkdirSync(join(maildir, sub), { recursive: true });
  messages.forEach((raw, i) => {
    let bareLf = 0;
    for (let k = 0; k < raw.length; k++) if (raw[k] === 10 && raw[k - 1] !== 13) bareLf++;
    const t = internalDateMs(i) / 1000;
    const file = join(maildir, 'cur', `${t}.M${String(i).padStart(6, '0')}P1.private,S=${raw.length},W=${raw.length + bareLf}:2,`);
    writeFileSync(file, raw);
    utimesSync(file, t, t);
  });
}

function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.isDirectory()) chownTree(join(path, e.name), owner);
    else chownSync(join(path, e.name), owner.uid, owner.gid);
  }
}

export interface DovecotOptions {
  /** An empty directory this instance owns (config, Maildir, sockets, log). */
  dir: string;
  user: string;
  password: string;
  /** INBOX, in this order (UID i+1). */
  messages: Uint8Array[];
  /** INTERNALDATE of message i, in ms since the epoch (whole seconds). */
  internalDateMs(i: number): number;
  /** Appended to dovecot.conf (e.g. the benchmark's process limits for 1,000 connections). */
  extraConfig?: string;
}

export interface DovecotInstance {
  port: number;
  /** INBOX's Maildir (cur/ holds the messages). */
  maildir: string;
  /** SIGKILL the master (its helpers exit when its pipes close) and wait until it is gone. */
  stop(): Promise<void>;
}

/** Starts Dovecot over a fresh Maildir of `messages`; throws when Dovecot is not installed or does not start. */
export async function startDovecot(o: DovecotOptions): Promise<DovecotInstance> {
  const x = dovecotLibexec();
  if (!x) throw new Error('Dovecot imapd is not installed (npm run peers)');
  const { dir } = o;
  const owner = mailOwner();
  mkdirSync(join(dir, 'run'), { recursive: true });
  mkdirSync(join(dir, 'state'), { recursive: true });
  chmodSync(dir, 0o755);
  const maildir = join(dir, 'mail', o.user, 'Maildir');
  writeMaildir(maildir, o.messages, o.internalDateMs);
  chownTree(join(dir, 'mail'), owner);
  writeFileSync(join(dir, 'users'), `${o.user}:{PLAIN}${o.password}\n`);
  const port = await freePort();
  const conf = join(dir, 'dovecot.conf');
  writeFileSync(conf, config(dir, port, x, owner) + (o.extraConfig ?? ''));
  const pidFile = join(dir, 'run', 'master.pid');
  /** Running and not a zombie (a container's init may reap late). */
  const alive = (pid: number) => { try { return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };
  // No pipe and not our stderr: the daemon may keep what it is given open, and a Dovecot left running (seen when two
  // benches start one at once) then held a parent's stderr pipe, so spawnSync waited its whole timeout (CI 4 -> 11 min).
  // Its messages go to log_path (dovecot.log in `dir`); a failed start still throws here (exit status).
  execFileSync('dovecot', ['-c', conf], { stdio: 'ignore' });
  const stop = async () => {
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8'));
    if (alive(pid)) process.kill(pid, 'SIGKILL'); // SIGTERM waits seconds for its helpers
    await waitFor(() => !alive(pid), 'Dovecot to stop');
  };
  try {
    await waitFor(() => accepts(port), `Dovecot on port ${port}`, 30_000); // slow to start on a loaded machine
  } catch (err) { // started but not listening in time (a loaded machine): stop it, or nobody will (bench smoke goes on)
    await stop().catch(() => undefined);
    throw err;
  }
  return { port, maildir, stop };
}

/** Deletes INBOX's dovecot.index*, dovecot-uidlist and list index (no session open), as if never opened. */
export function forgetDovecotIndexes(maildir: string): void {
  for (const f of readdirSync(maildir)) if (f.startsWith('dovecot')) rmSync(join(maildir, f), { force: true });
}
