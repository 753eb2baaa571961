/**
 * A throwaway Dovecot and a gateway over the embedded store holding the same messages at the same internal dates
 * (UIDs 1..n on both), for suites that send the same commands to both and compare the answers (test/differential).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDovecot, type DovecotInstance } from './dovecot.ts';
import { startTestBed, type TestBed } from './gateway.ts';

export interface Login { port: number; user: string; password: string }

export interface SideBySide {
  dovecot: DovecotInstance;
  bed: TestBed;
  servers: Record<'dovecot' | 'gateway', Login>;
  close(): Promise<void>;
}

/** `messages[i]` gets internal date `t0 + i` seconds on both servers. */
export async function startSideBySide(o: { prefix: string; user: string; password: string; messages: Uint8Array[]; t0: number }): Promise<SideBySide> {
  const dir = mkdtempSync(join(tmpdir(), o.prefix));
  const [dovecot, bed] = await Promise.all([
    startDovecot({ dir, user: o.user, password: o.password, messages: o.messages, internalDateMs: (i) => o.t0 + i * 1000 }),
    startTestBed(),
  ]);
  o.messages.forEach((raw, i) => bed.store.importMessage(bed.user, 'inbox', raw, { receivedAt: new Date(o.t0 + i * 1000) }));
  return {
    dovecot, bed,
    servers: {
      dovecot: { port: dovecot.port, user: o.user, password: o.password },
      gateway: { port: bed.imapPort, user: bed.user, password: bed.password },
    },
    async close() {
      await Promise.all([dovecot.stop(), bed.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
