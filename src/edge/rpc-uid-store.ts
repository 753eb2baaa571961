/**
 * RpcUidStore: the UidStore (src/uidmap/store.ts) a Worker's sessions use, calling each account's UidStoreDO over
 * Durable Object RPC: one RPC per store call, no HTTP in between. Store errors come back as `NO [CODE]`.
 */
import type { EmailOrigin, MailboxSnapshot, MailboxUidState, SyncCommit, UidEntry, UidStore } from '../uidmap/store.ts';
import type { DurableObjectNamespace } from './cf.ts';
import { accountObjectName, type UidStoreRpc } from './do-uid-store.ts';
import { decodeStoreError } from './errors.ts';

export class RpcUidStore implements UidStore {
  constructor(private readonly ns: DurableObjectNamespace) {}

  /** The stub of the account's object. Stubs are cheap; workerd routes every call to the one live instance. */
  private stub(account: string): UidStoreRpc {
    return this.ns.get(this.ns.idFromName(accountObjectName(account))) as unknown as UidStoreRpc;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw decodeStoreError(err);
    }
  }

  openMailbox(account: string, mailboxId: string): Promise<MailboxUidState> {
    return this.call(() => this.stub(account).openMailbox(mailboxId));
  }
  assign(account: string, mailboxId: string, emailIds: string[]): Promise<Map<string, number>> {
    return this.call(() => this.stub(account).assign(mailboxId, emailIds));
  }
  list(account: string, mailboxId: string): Promise<UidEntry[]> {
    return this.call(() => this.stub(account).list(mailboxId));
  }
  snapshot(account: string, mailboxId: string): Promise<MailboxSnapshot> {
    return this.call(() => this.stub(account).snapshot(mailboxId));
  }
  commitSync(account: string, mailboxId: string, c: SyncCommit): Promise<{ state: MailboxUidState; assigned: Map<string, number> } | null> {
    return this.call(() => this.stub(account).commitSync(mailboxId, c));
  }
  expunge(account: string, mailboxId: string, uids: number[]): Promise<number[]> {
    return this.call(() => this.stub(account).expunge(mailboxId, uids));
  }
  setSyncState(account: string, mailboxId: string, syncState: string): Promise<void> {
    return this.call(() => this.stub(account).setSyncState(mailboxId, syncState));
  }
  advanceSyncState(account: string, mailboxId: string, from: string, to: string): Promise<boolean> {
    return this.call(() => this.stub(account).advanceSyncState(mailboxId, from, to));
  }
  resetMailbox(account: string, mailboxId: string): Promise<void> {
    return this.call(() => this.stub(account).resetMailbox(mailboxId));
  }
  async getDeleted(account: string, mailboxId: string): Promise<Set<number>> {
    return new Set(await this.call(() => this.stub(account).getDeleted(mailboxId)));
  }
  setDeleted(account: string, mailboxId: string, uids: number[], deleted: boolean): Promise<void> {
    return this.call(() => this.stub(account).setDeleted(mailboxId, uids, deleted));
  }
  touch(account: string, mailboxId: string, uids: number[]): Promise<number> {
    return this.call(() => this.stub(account).touch(mailboxId, uids));
  }
  vanished(account: string, mailboxId: string, sinceModseq: number): Promise<number[]> {
    return this.call(() => this.stub(account).vanished(mailboxId, sinceModseq));
  }
  async setOrigins(account: string, origins: Map<string, EmailOrigin>): Promise<void> {
    if (origins.size > 0) await this.call(() => this.stub(account).setOrigins(origins));
  }
  async getOrigins(account: string, emailIds: string[]): Promise<Map<string, EmailOrigin>> {
    return emailIds.length === 0 ? new Map() : this.call(() => this.stub(account).getOrigins(emailIds));
  }
  async close(): Promise<void> {}
}
