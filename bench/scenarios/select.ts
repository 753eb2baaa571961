/** Issue 8 scenario 3: SELECT INBOX latency in a fresh session, cold and warm. */
import { MeasuredSession, type Scenario, type ScenarioContext } from '../scenario.ts';

async function select(ctx: ScenarioContext) {
  const s = await MeasuredSession.open(ctx.target);
  await s.login();
  const r = await s.select(ctx.messages);
  await s.close();
  return { value: r.ms, jmap: s.jmap };
}

export const selectCold: Scenario = {
  id: 'select-cold', title: 'SELECT INBOX, cold', unit: 'ms', better: 'lower', cold: true, goal: 'none yet', run: select,
};

export const selectWarm: Scenario = {
  id: 'select-warm', title: 'SELECT INBOX, warm (fresh session)', unit: 'ms', better: 'lower', cold: false, settle: true,
  goal: '<= 5 ms over the embedded store', run: select,
};
