/** Issue 8 scenario 2: full download, `UID FETCH 1:* BODY.PEEK[]`, in MB/s of message octets (after SELECT, warm). */
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

export const fullDownload: Scenario = {
  id: 'download', title: 'Full download, UID FETCH 1:* BODY.PEEK[]', unit: 'MB/s', better: 'higher', cold: false,
  goal: '>= 0.7x Dovecot', run: download,
};
