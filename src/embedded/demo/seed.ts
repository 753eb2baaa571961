/** Seeds the demo account (idempotent: an account that already has Emails is left alone). */
import type { Repo } from '../repo.ts';
import type { EmbeddedStore } from '../types.ts';
import { DEMO_MESSAGES } from './messages.ts';
import { dateForm } from '../header-forms.ts';
import { readHeaders } from '../mime.ts';

export function seedDemo(store: EmbeddedStore, repo: Repo, username: string, password: string): void {
  const { accountId } = store.createUser(username, password);
  if (repo.emails(accountId).length > 0) return;
  repo.tx(() => {
    const projects = repo.findMailbox(accountId, 'Projects')
      ?? repo.mailbox(accountId, repo.createMailbox(accountId, { name: 'Projects', parentId: null, role: null, sortOrder: 20, isSubscribed: true }))!;
    if (!repo.findMailbox(accountId, 'Projects/Gateway'))
      repo.createMailbox(accountId, { name: 'Gateway', parentId: projects.id, role: null, sortOrder: 0, isSubscribed: true });
  });
  for (const m of DEMO_MESSAGES) {
    const raw = new TextEncoder().encode(m.raw);
    const date = readHeaders(raw).headers.find((h) => h.name.toLowerCase() === 'date');
    const sent = date ? dateForm(date.value) : null;
    // Received a few minutes after it was sent.
    const receivedAt = new Date((sent ? Date.parse(sent) : Date.now()) + 3 * 60_000);
    store.importMessage(username, m.mailbox, raw, { keywords: m.keywords, receivedAt });
  }
}
