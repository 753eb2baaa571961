import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JmapClient, basicAuth } from '../../src/backend/jmap/client.ts';
import { JmapBackend } from '../../src/backend/jmap/backend.ts';
import { isCannotCalculateChanges } from '../../src/backend/backend.ts';
import { ImapError } from '../../src/protocol/errors.ts';
import type { MethodCall, MethodResponse } from '../../src/backend/jmap/types.ts';
import { ACCOUNT, BASE, FakeServer, PASS, json } from './fake-server.ts';

/** A tiny in-memory JMAP mail account, enough to check what JmapBackend sends and how it reacts. */
class MiniStore {
  emails = new Map<string, { keywords: Record<string, true>; mailboxIds: Record<string, true>; receivedAt: string }>();
  state = 1;
  /** Email ids whose next update fails with this SetError type. */
  failUpdate = new Map<string, string>();
  mailboxes: Array<Record<string, unknown>> = [];
  importError: Record<string, unknown> | undefined;

  handle = (calls: MethodCall[]): Response => {
    const out: MethodResponse[] = [];
    for (const [name, args, id] of calls) out.push(this.one(name, args, id));
    return json({ methodResponses: out, sessionState: 'S1' });
  };

  private one(name: string, args: Record<string, unknown>, id: string): MethodResponse {
    switch (name) {
      case 'Mailbox/get': return [name, { accountId: ACCOUNT, state: 'M1', list: this.mailboxes, notFound: [] }, id];
      case 'Email/get': {
        const ids = args.ids as string[];
        const props = (args.properties as string[] | undefined) ?? ['id', 'keywords', 'mailboxIds'];
        const list = ids.filter((x) => this.emails.has(x)).map((x) => {
          const e = this.emails.get(x)!;
          const full: Record<string, unknown> = {
            id: x, blobId: `blob-${x}`, threadId: `t-${x}`, size: 100, receivedAt: e.receivedAt,
            keywords: { ...e.keywords }, mailboxIds: { ...e.mailboxIds },
            'header:Subject:asRaw:all': [` hello ${x}`], headers: [{ name: 'Subject', value: ` hello ${x}` }],
          };
          return Object.fromEntries(props.map((p) => [p, full[p]]));
        });
        return [name, { accountId: ACCOUNT, state: `E${this.state}`, list, notFound: ids.filter((x) => !this.emails.has(x)) }, id];
      }
      case 'Email/query': {
        const mb = (args.filter as { inMailbox: string }).inMailbox;
        const ids = [...this.emails].filter(([, e]) => e.mailboxIds[mb]).sort((a, b) => a[1].receivedAt.localeCompare(b[1].receivedAt)).map(([k]) => k);
        const pos = (args.position as number) ?? 0;
        return [name, { accountId: ACCOUNT, queryState: `E${this.state}`, ids: ids.slice(pos, pos + 2), position: pos, total: ids.length }, id];
      }
      case 'Email/set': {
        const updated: Record<string, null> = {};
        const notUpdated: Record<string, unknown> = {};
        const destroyed: string[] = [];
        const notDestroyed: Record<string, unknown> = {};
        for (const [eid, patch] of Object.entries((args.update ?? {}) as Record<string, Record<string, true | null>>)) {
          const e = this.emails.get(eid);
          const fail = this.failUpdate.get(eid);
          if (!e || fail) { notUpdated[eid] = { type: fail ?? 'notFound' }; continue; }
          for (const [path, v] of Object.entries(patch)) {
            const [field, key] = path.split('/') as ['keywords' | 'mailboxIds', string];
            if (v) e[field][key] = true; else delete e[field][key];
          }
          updated[eid] = null;
          this.state++;
        }
        for (const eid of (args.destroy ?? []) as string[]) {
          if (this.emails.delete(eid)) destroyed.push(eid); else notDestroyed[eid] = { type: 'notFound' };
        }
        return [name, { accountId: ACCOUNT, oldState: 'x', newState: `E${this.state}`, updated, notUpdated, destroyed, notDestroyed }, id];
      }
      case 'Email/changes':
        if (args.sinceState === 'ancient') return ['error', { type: 'cannotCalculateChanges' }, id];
        return [name, { accountId: ACCOUNT, oldState: args.sinceState, newState: 'E9', hasMoreChanges: true, created: ['n1'], updated: [], destroyed: ['d1'] }, id];
      case 'Email/import': {
        const m = (args.emails as Record<string, { mailboxIds: Record<string, true>; keywords: Record<string, true>; receivedAt: string }>).m!;
        if (this.importError) return [name, { accountId: ACCOUNT, created: null, notCreated: { m: this.importError } }, id];
        const newId = `imp${this.emails.size}`;
        this.emails.set(newId, { keywords: { ...m.keywords }, mailboxIds: { ...m.mailboxIds }, receivedAt: m.receivedAt });
        return [name, { accountId: ACCOUNT, created: { m: { id: newId, blobId: 'up1', threadId: 'T', size: 42 } }, notCreated: null }, id];
      }
      default: return ['error', { type: 'unknownMethod' }, id];
    }
  }

  add(id: string, receivedAt: string, mailboxIds: string[], keywords: string[] = []): void {
    this.emails.set(id, {
      receivedAt, mailboxIds: Object.fromEntries(mailboxIds.map((m) => [m, true])), keywords: Object.fromEntries(keywords.map((k) => [k, true])),
    });
  }
}

async function setup(limits: Record<string, number> = {}) {
  const store = new MiniStore();
  const server = new FakeServer(store.handle, limits, (req) =>
    req.url.startsWith(`${BASE}/upload/`) ? json({ accountId: ACCOUNT, blobId: 'up1', type: 'message/rfc822', size: req.bytes!.length }, 201) : PASS());
  const client = new JmapClient({ sessionUrl: `${BASE}/.well-known/jmap`, auth: basicAuth('alice', 'pw'), fetch: server.fetch });
  const backend = await JmapBackend.connect(client);
  return { store, server, client, backend };
}

const setCalls = (server: FakeServer) => server.apiRequests().flatMap((r) => r.json!.methodCalls).filter((c) => c[0] === 'Email/set');

test('listMailboxes fills sane defaults when a server omits optional members', async () => {
  const { store, backend } = await setup();
  store.mailboxes = [
    { id: 'mb1', name: 'Inbox', role: 'inbox', parentId: null, totalEmails: 3, unreadEmails: 1, sortOrder: 1, isSubscribed: false,
      myRights: { mayReadItems: true, mayAddItems: false, mayRemoveItems: true, maySetSeen: true, maySetKeywords: true, mayCreateChild: true, mayRename: false, mayDelete: false, maySubmit: true } },
    { id: 'mb2', name: 'Odd' },
  ];
  const { state, mailboxes } = await backend.listMailboxes();
  assert.equal(state, 'M1');
  assert.equal(backend.accountId, ACCOUNT);
  assert.deepEqual(mailboxes[0], {
    id: 'mb1', name: 'Inbox', parentId: null, role: 'inbox', sortOrder: 1, totalEmails: 3, unreadEmails: 1, isSubscribed: false,
    myRights: { mayReadItems: true, mayAddItems: false, mayRemoveItems: true, maySetSeen: true, maySetKeywords: true, mayCreateChild: true, mayRename: false, mayDelete: false, maySubmit: true },
  });
  const odd = mailboxes[1]!;
  assert.equal(odd.role, null);
  assert.equal(odd.parentId, null);
  assert.equal(odd.isSubscribed, true);
  assert.equal(odd.totalEmails, 0);
  assert.equal(odd.myRights.mayReadItems, true);
});

test('listEmailIds pages through the query and takes the Email state from an Email/get sent before it', async () => {
  const { store, server, backend } = await setup();
  store.add('c', '2024-01-03T00:00:00Z', ['inbox']);
  store.add('a', '2024-01-01T00:00:00Z', ['inbox']);
  store.add('x', '2024-01-01T00:00:00Z', ['other']);
  store.add('b', '2024-01-02T00:00:00Z', ['inbox']);
  const listing = await backend.listEmailIds('inbox');
  assert.deepEqual(listing.ids, ['a', 'b', 'c']);
  assert.equal(listing.emailState, 'E1');
  const first = server.apiRequests()[0]!.json!.methodCalls;
  assert.equal(first[0]![0], 'Email/get');
  assert.deepEqual(first[0]![1].ids, []);
  assert.equal(first[1]![0], 'Email/query');
  assert.deepEqual(first[1]![1].sort, [{ property: 'receivedAt', isAscending: true }]);
  assert.deepEqual(first[1]![1].filter, { inMailbox: 'inbox' });
});

test('getEmails maps keyword and mailbox maps to lists; missing ids are omitted', async () => {
  const { store, backend } = await setup();
  store.add('e1', '2024-05-01T10:00:00Z', ['m1', 'm2'], ['$seen', '$flagged']);
  const metas = await backend.getEmails(['e1', 'gone']);
  assert.deepEqual(metas, [{
    id: 'e1', blobId: 'blob-e1', threadId: 't-e1', mailboxIds: ['m1', 'm2'], keywords: ['$seen', '$flagged'], size: 100, receivedAt: '2024-05-01T10:00:00Z',
  }]);
});

test('getRawHeaders asks for header:NAME:asRaw:all; getHeaderLists for headers', async () => {
  const { store, server, backend } = await setup();
  store.add('e1', '2024-05-01T10:00:00Z', ['m1']);
  const raw = await backend.getRawHeaders(['e1'], ['Subject']);
  assert.deepEqual(raw.get('e1'), { Subject: [' hello e1'] });
  assert.deepEqual(server.apiRequests().at(-1)!.json!.methodCalls[0]![1].properties, ['id', 'header:Subject:asRaw:all']);
  const lists = await backend.getHeaderLists(['e1']);
  assert.deepEqual(lists.get('e1'), [{ name: 'Subject', value: ' hello e1' }]);
  await assert.rejects(backend.getRawHeaders(['e1'], ['Bad:Name']), (e) => e instanceof ImapError && e.kind === 'BAD');
});

test('updateKeywords sends keyword patches in batches within maxObjectsInSet', async () => {
  const { store, server, backend } = await setup({ maxObjectsInSet: 2, maxObjectsInGet: 5 });
  for (const id of ['a', 'b', 'c']) store.add(id, '2024-01-01T00:00:00Z', ['m'], ['$draft']);
  await backend.updateKeywords(['a', 'b', 'c'].map((id) => ({ id, add: ['$seen'], remove: ['$draft'] })));
  const sets = setCalls(server);
  assert.equal(sets.length, 2);
  for (const s of sets) assert.ok(Object.keys(s[1].update as object).length <= 2);
  assert.deepEqual((sets[0]![1].update as Record<string, unknown>).a, { 'keywords/$seen': true, 'keywords/$draft': null });
  for (const id of ['a', 'b', 'c']) assert.deepEqual(store.emails.get(id)!.keywords, { $seen: true });
});

test('partial failure of updateKeywords reverts the succeeded emails and throws the mapped SetError (DESIGN rule 10)', async () => {
  const { store, server, backend } = await setup();
  store.add('e1', '2024-01-01T00:00:00Z', ['m'], ['$answered']);
  store.add('e2', '2024-01-01T00:00:00Z', ['m'], ['$seen']);  // already seen: adding it changes nothing
  store.add('e3', '2024-01-01T00:00:00Z', ['m']);
  store.failUpdate.set('e3', 'forbidden');
  await assert.rejects(
    backend.updateKeywords(['e1', 'e2', 'e3'].map((id) => ({ id, add: ['$seen'], remove: ['$answered'] }))),
    (e) => e instanceof ImapError && e.kind === 'NO' && e.code?.name === 'NOPERM',
  );
  const sets = setCalls(server);
  assert.equal(sets.length, 2, 'one forward set, one revert set');
  // e1 gained $seen and lost $answered: both undone. e2 had $seen and no $answered: nothing to undo.
  assert.deepEqual(sets[1]![1].update, { e1: { 'keywords/$seen': null, 'keywords/$answered': true } });
  assert.deepEqual(store.emails.get('e1')!.keywords, { $answered: true });
  assert.deepEqual(store.emails.get('e2')!.keywords, { $seen: true });
  assert.deepEqual(store.emails.get('e3')!.keywords, {});
});

test('updateMailboxes reverts across batches when a later batch fails', async () => {
  const { store, server, backend } = await setup({ maxObjectsInSet: 1, maxObjectsInGet: 1, maxCallsInRequest: 2 });
  store.add('e1', '2024-01-01T00:00:00Z', ['src']);
  store.add('e2', '2024-01-01T00:00:00Z', ['src']);
  store.failUpdate.set('e2', 'overQuota');
  await assert.rejects(
    backend.updateMailboxes([{ id: 'e1', add: ['dst'], remove: ['src'] }, { id: 'e2', add: ['dst'], remove: ['src'] }]),
    (e) => e instanceof ImapError && e.code?.name === 'OVERQUOTA',
  );
  assert.deepEqual(store.emails.get('e1')!.mailboxIds, { src: true });
  assert.deepEqual(setCalls(server).at(-1)![1].update, { e1: { 'mailboxIds/dst': null, 'mailboxIds/src': true } });
});

test('emailChanges returns one page; cannotCalculateChanges is recognisable', async () => {
  const { server, backend } = await setup();
  const ch = await backend.emailChanges('E1', 50);
  assert.deepEqual(ch, { oldState: 'E1', newState: 'E9', hasMoreChanges: true, created: ['n1'], updated: [], destroyed: ['d1'] });
  assert.equal(server.apiRequests().at(-1)!.json!.methodCalls[0]![1].maxChanges, 50);
  await assert.rejects(backend.emailChanges('ancient'), (e) => isCannotCalculateChanges(e));
});

test('destroyEmails treats already-destroyed emails as done', async () => {
  const { store, backend } = await setup();
  store.add('e1', '2024-01-01T00:00:00Z', ['m']);
  await backend.destroyEmails(['e1', 'never']);
  assert.equal(store.emails.size, 0);
});

test('importEmail uploads the blob and imports it with keyword and mailbox maps and receivedAt', async () => {
  const { store, server, backend } = await setup();
  const raw = new TextEncoder().encode('Subject: hi\r\n\r\nbody\r\n');
  const meta = await backend.importEmail(raw, ['inbox'], ['$seen'], '2024-02-03T04:05:06Z');
  assert.deepEqual(meta, { id: 'imp0', blobId: 'up1', threadId: 'T', mailboxIds: ['inbox'], keywords: ['$seen'], size: 42, receivedAt: '2024-02-03T04:05:06Z' });
  const imp = server.apiRequests().at(-1)!.json!.methodCalls[0]!;
  assert.deepEqual(imp[1].emails, { m: { blobId: 'up1', mailboxIds: { inbox: true }, keywords: { $seen: true }, receivedAt: '2024-02-03T04:05:06Z' } });
  assert.ok(store.emails.has('imp0'));
  store.importError = { type: 'overQuota' };
  await assert.rejects(backend.importEmail(raw, ['inbox'], []), (e) => e instanceof ImapError && e.code?.name === 'OVERQUOTA');
});

test('importEmail of a duplicate the server refuses (alreadyExists + existingId) places the existing email', async () => {
  const { store, backend } = await setup();
  store.add('old', '2024-01-01T00:00:00Z', ['inbox']);
  store.importError = { type: 'alreadyExists', existingId: 'old' };
  const meta = await backend.importEmail(new TextEncoder().encode('x'), ['sent'], ['$seen']);
  assert.equal(meta.id, 'old');
  assert.deepEqual(meta.mailboxIds.sort(), ['inbox', 'sent']);
  assert.deepEqual(meta.keywords, ['$seen']);
});
