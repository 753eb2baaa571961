/**
 * Issue 8 scenario 2: full download, `UID FETCH 1:* BODY.PEEK[]`, in MB/s of message octets (after SELECT), twice:
 * cold = the first download after a gateway restart (every message comes from the store: JMAP-bound, see the
 * floor-download figure), then warm = the same download again on the same gateway process, served from its
 * raw-message cache (src/session/raw-cache.ts: a second device or a client without an offline store).
 */
import { expectFetches, MeasuredSession, type Scenario, type ScenarioContext } from '../scenario.ts';

async function download(ctx: ScenarioContext) {
  const s = await MeasuredSession.open(ctx.target);
  await s.login();
  await s.select(ctx.messages);
  const r = await s.run('UID FETCH 1:* BODY.PEEK[]', 'UID FETCH 1:* BODY.PEEK[]');
  expectFetches(r, ctx.messages, 'BODY.PEEK[]');
  await s.close();
  return { value: r.literalBytes / 1e6 / (r.ms / 1000), jmap: s.jmap };
}

/** Runs first (index.ts): its download fills the raw-message cache the warm one reads. */
export const downloadCold: Scenario = {
  id: 'download-cold', title: 'Full download, cold (first after a gateway restart), UID FETCH 1:* BODY.PEEK[]', unit: 'MB/s',
  better: 'higher', cold: true, goal: 'none (first download: JMAP-bound)', run: download,
};

export const fullDownload: Scenario = {
  id: 'download', title: 'Full download, warm (again on the same gateway), UID FETCH 1:* BODY.PEEK[]', unit: 'MB/s',
  better: 'higher', cold: false, settle: true, goal: '>= 0.7x Dovecot', run: download,
};
