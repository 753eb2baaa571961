/**
 * QUOTA (RFC 9208) from JMAP Quotas (RFC 9425): GETQUOTAROOT, GETQUOTA, SETQUOTA.
 *
 * Each JMAP Quota on mail becomes a resource of the quota root named after the Quota's `name` (RFC 9208 §3.2: an
 * opaque astring): `octets` -> STORAGE in units of 1024 octets (§5.1, rounded down as Dovecot does), `count` ->
 * MESSAGE (§5.2). JMAP quotas are account-wide (RFC 9425 §4.1 `scope`), so every mailbox has every root; a root
 * whose name repeats a resource type already in it is split off under the Quota's id. Cost: one `Quota/get`.
 * SETQUOTA is refused (no `QUOTASET`): JMAP users cannot set quotas.
 */
import { ImapError } from '../../protocol/errors.ts';
import type { CommandOf, QuotaResource } from '../../protocol/types.ts';
import type { QuotaInfo } from '../../backend/backend.ts';
import type { HandlerResult } from '../dispatch.ts';
import { decodeName, encodeName } from '../names.ts';
import type { Session } from '../session.ts';
import { inOtherUsers } from '../shared-accounts.ts';

/** RFC 9425 resourceType -> RFC 9208 §5 resource name and the unit it is reported in. */
const RESOURCES: Record<QuotaInfo['resourceType'], { name: string; unit: number }> = {
  octets: { name: 'STORAGE', unit: 1024 },
  count: { name: 'MESSAGE', unit: 1 },
};

/** Quota roots in the order the backend lists them, each with its resources. */
async function quotaRoots(s: Session): Promise<Map<string, QuotaResource[]>> {
  const quotas = await s.home!.backend.getQuotas(); // the user's own account's, whatever mailbox is selected
  if (quotas === null) throw ImapError.no('The mail store has no quotas', 'CANNOT');
  const roots = new Map<string, QuotaResource[]>();
  for (const q of quotas) {
    const { name, unit } = RESOURCES[q.resourceType];
    const resource = { name, usage: Math.floor(q.used / unit), limit: Math.floor(q.hardLimit / unit) };
    const root = roots.get(q.name)?.some((r) => r.name === name) ? q.id : q.name;
    roots.set(root, [...(roots.get(root) ?? []), resource]);
  }
  return roots;
}

/**
 * RFC 9208 §4.1.2: the mailbox's roots, each with its QUOTA. The mailbox need not exist (the roots a new one would
 * have): all quotas are account-wide, so no lookup; the name must still be valid (BAD otherwise, RFC 9051 §5.1.3).
 */
export async function getQuotaRootCommand(s: Session, c: CommandOf<'GETQUOTAROOT'>): Promise<HandlerResult> {
  const name = decodeName(s, c.mailbox);
  // A mailbox of an account shared with the user (shared-accounts.ts) is under none of the user's quota roots.
  const roots = inOtherUsers(s, name) ? new Map<string, QuotaResource[]>() : await quotaRoots(s);
  await s.send({ type: 'QUOTAROOT', mailbox: encodeName(s, name), roots: [...roots.keys()] });
  for (const [root, resources] of roots) await s.send({ type: 'QUOTA', root, resources });
}

/** RFC 9208 §4.1.1: one root's usage and limits; an unknown root is NO [NONEXISTENT]. */
export async function getQuotaCommand(s: Session, c: CommandOf<'GETQUOTA'>): Promise<HandlerResult> {
  const resources = (await quotaRoots(s)).get(c.root);
  if (!resources) throw ImapError.no(`No such quota root: ${c.root}`, 'NONEXISTENT');
  await s.send({ type: 'QUOTA', root: c.root, resources });
}

/** RFC 9208 §4.1.3: only with QUOTASET, which is not offered; limits are the mail store administrator's. */
export async function setQuotaCommand(): Promise<HandlerResult> {
  throw ImapError.no('Quotas are set by the mail store administrator', 'NOPERM');
}
