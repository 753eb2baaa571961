/**
 * Raw messages (RFC 8621 §4.1.1 `blobId`) for the commands that need whole messages: FETCH of body content and
 * SEARCH / SORT / THREAD keys decided from the message text. Where the store offers RFC 9404 `Blob/get`
 * (MailBackend.downloadBlobs), messages up to GET_MAX_EACH octets travel in groups of at most GET_GROUP_BYTES per
 * request, GROUPS_IN_FLIGHT at once; the rest (bigger, or not returned) are downloaded one by one (RFC 8620 §6.2),
 * CONCURRENCY at a time. Each message is handed to `use` as it arrives, so the caller bounds what it keeps.
 */
import type { MailBackend } from '../backend/backend.ts';

export const GET_MAX_EACH = 1 << 20;
export const GET_GROUP_BYTES = 8 << 20;
export const GROUPS_IN_FLIGHT = 2;
export const CONCURRENCY = 4;

/** What a download needs of a message: its blob and its size (JMAP `size`, the blob's octets). */
export interface BlobRef {
  blobId: string;
  size: number;
}

/** Downloads the raw message of every item and hands it to `use`; order is not kept. */
export async function forEachRaw<T extends BlobRef>(backend: MailBackend, items: readonly T[], use: (item: T, raw: Uint8Array) => void): Promise<void> {
  let rest: T[] = [...items];
  if (backend.downloadBlobs && items.length > 1) {
    const groups: T[][] = [];
    let group: T[] = [];
    let bytes = 0;
    for (const m of items) {
      if (m.size > GET_MAX_EACH) continue;
      if (group.length > 0 && bytes + m.size > GET_GROUP_BYTES) { groups.push(group); group = []; bytes = 0; }
      group.push(m);
      bytes += m.size;
    }
    if (group.length > 0) groups.push(group);
    const got = new Set<T>();
    const worker = async (): Promise<void> => {
      for (let g = groups.shift(); g; g = groups.shift()) {
        const data = await backend.downloadBlobs!(g.map((m) => m.blobId));
        for (const m of g) {
          const raw = data.get(m.blobId);
          if (raw) { got.add(m); use(m, raw); }
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(GROUPS_IN_FLIGHT, groups.length) }, worker));
    rest = rest.filter((m) => !got.has(m));
  }
  const worker = async (): Promise<void> => {
    for (let m = rest.shift(); m; m = rest.shift()) use(m, await backend.downloadBlob(m.blobId));
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, rest.length) }, worker));
}
