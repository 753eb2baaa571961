/** Issue 8 scenario 1: Thunderbird's folder listing (LOGIN, SELECT INBOX, header FETCH of all), cold and warm. */
import { expectFetches, MeasuredSession, THUNDERBIRD_LISTING, type Scenario, type ScenarioContext } from '../scenario.ts';

async function listing(ctx: ScenarioContext) {
  const started = performance.now();
  const s = await MeasuredSession.open(ctx.target);
  await s.login();
  await s.select(ctx.messages);
  expectFetches(await s.run('UID FETCH 1:* (folder listing)', THUNDERBIRD_LISTING), ctx.messages, 'folder listing');
  const value = performance.now() - started;
  await s.close();
  return { value, jmap: s.jmap };
}

export const listingCold: Scenario = {
  id: 'listing-cold', title: 'Folder listing, cold (connect, LOGIN, SELECT, header FETCH)', unit: 'ms', better: 'lower',
  cold: true, goal: 'none yet', run: listing,
};

export const listingWarm: Scenario = {
  id: 'listing-warm', title: 'Folder listing, warm (connect, LOGIN, SELECT, header FETCH)', unit: 'ms', better: 'lower',
  cold: false, settle: true, goal: '<= 1.5x Dovecot', run: listing,
};
