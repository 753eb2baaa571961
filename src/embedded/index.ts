/**
 * The embedded JMAP store: a real JMAP server (RFC 8620 core, RFC 8621 mail) over HTTP with hono, stored in
 * SQLite. The gateway's out-of-the-box backend and fast test backend; the gateway core never imports it and talks
 * to it over HTTP exactly as to Cyrus or Fastmail.
 */
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openDb } from './db.ts';
import { ChangeLog } from './changes.ts';
import { Repo, validKeyword } from './repo.ts';
import { PushHub } from './push.ts';
import { buildHttp } from './http.ts';
import { nodeListener } from './node-http.ts';
import { seedDemo } from './demo/seed.ts';
import type { EmbeddedLimits, EmbeddedStore, EmbeddedStoreOptions } from './types.ts';

export type { EmbeddedLimits, EmbeddedStore, EmbeddedStoreOptions } from './types.ts';
export { splitMbox } from './mbox.ts';

/** Defaults advertised in the Session's core capability (RFC 8620 §2), close to common servers. */
export const DEFAULT_LIMITS: EmbeddedLimits = {
  maxSizeUpload: 50_000_000, maxConcurrentUpload: 4, maxSizeRequest: 10_000_000, maxConcurrentRequests: 8,
  maxCallsInRequest: 32, maxObjectsInGet: 500, maxObjectsInSet: 500,
};

export function openEmbeddedStore(opts: EmbeddedStoreOptions): EmbeddedStore {
  const limits: EmbeddedLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const { db, epoch } = openDb(opts.dbPath);
  const push = new PushHub();
  const log = new ChangeLog(db, epoch, (accountId) => push.notify(accountId));
  const repo = new Repo(db, log);
  const { app, routes } = buildHttp({ repo, limits, bearerTokens: opts.bearerTokens ?? {}, push, ...(opts.verifyBearer ? { verifyBearer: opts.verifyBearer } : {}) });
  const servers = new Set<{ close(): Promise<void> }>();
  // Built on first use: @hono/node-server's listener swaps the process's global Request/Response for its own.
  let listener: RequestListener | undefined;
  const onRequest = () => (listener ??= nodeListener(routes, app, limits));

  const store: EmbeddedStore = {
    fetch: async (req) => app.fetch(req),
    nodeListener: onRequest,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const server = createServer({}, onRequest());
        server.listen(port, host, () => {
          const info = server.address() as AddressInfo;
          const shownHost = info.family === 'IPv6' ? `[${info.address}]` : info.address;
          const handle = {
            url: `http://${shownHost}:${info.port}`,
            port: info.port,
            close: () => new Promise<void>((done) => {
              servers.delete(handle);
              for (const end of [...push.closeAll]) end();
              server.close(() => done());
              server.closeAllConnections();
            }),
          };
          servers.add(handle);
          resolve(handle);
        });
        server.once('error', reject);
      });
    },
    createUser: (username, password) => ({ accountId: repo.createUser(username, password).account_id }),
    hasUser: (username) => repo.user(username) !== undefined,
    shareAccount(owner, withUser, o = {}) {
      const user = repo.user(owner);
      if (!user) throw new Error(`no such user: ${owner}`);
      if (!repo.user(withUser)) throw new Error(`no such user: ${withUser}`);
      if (withUser === owner) throw new Error('an account is not shared with its owner');
      repo.shareAccount(user.account_id, withUser, o.readOnly ?? false);
    },
    setQuota(username, q) {
      const user = repo.user(username);
      if (!user) throw new Error(`no such user: ${username}`);
      if (q.storage !== undefined) repo.setQuota(user.account_id, 'octets', q.storage);
      if (q.messages !== undefined) repo.setQuota(user.account_id, 'count', q.messages);
    },
    importMessage(username, mailbox, raw, o = {}) {
      const user = repo.user(username);
      if (!user) throw new Error(`no such user: ${username}`);
      const box = repo.findMailbox(user.account_id, mailbox);
      if (!box) throw new Error(`no such mailbox: ${mailbox}`);
      const keywords = (o.keywords ?? []).map((k) => k.toLowerCase());
      const bad = keywords.find((k) => !validKeyword(k));
      if (bad !== undefined) throw new Error(`invalid keyword: ${bad}`);
      return repo.durableTx(() => {
        const { blobId } = repo.putBlob(user.account_id, raw, 'message/rfc822');
        const receivedAt = Math.floor((o.receivedAt ?? new Date()).getTime() / 1000) * 1000;
        const row = repo.createEmail(user.account_id, blobId, [box.id], keywords, receivedAt);
        return { emailId: row.id, blobId };
      });
    },
    seedDemo: (username, password) => seedDemo(store, repo, username, password),
    close() {
      for (const end of [...push.closeAll]) end();
      for (const s of [...servers]) void s.close();
      db.close();
    },
  };
  return store;
}
