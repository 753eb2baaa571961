/**
 * Issue 8 scenario 5: APPEND throughput with LITERAL+ (RFC 7888): APPEND_COUNT generated messages pipelined
 * into a new mailbox (`APPEND box (\Seen) {n+}` with the message right behind), messages per second until the last
 * tagged OK. Every APPEND must succeed.
 */
import { MeasuredSession, type Scenario, type ScenarioContext } from '../scenario.ts';
import { loadCorpus } from '../corpus.ts';

const APPEND_COUNT = 200;
let generation = 0;

async function appendThroughput(ctx: ScenarioContext) {
  const messages = loadCorpus({ kind: 'generated', messages: APPEND_COUNT }).messages;
  const s = await MeasuredSession.open(ctx.target);
  await s.login();
  const box = `bench-append-${process.pid}-${++generation}`;
  await s.run('CREATE', `CREATE ${box}`);
  const enc = new TextEncoder();
  const t0 = performance.now();
  const results = await Promise.all(messages.map((m) => s.client.command([enc.encode(`APPEND ${box} (\\Seen) {${m.length}+}\r\n`), m])));
  const seconds = (performance.now() - t0) / 1000;
  const failed = results.filter((r) => r.status !== 'OK');
  if (failed.length > 0) throw new Error(`APPEND failed ${failed.length} times: ${failed[0]!.status} ${failed[0]!.text}`);
  await s.close();
  return { value: messages.length / seconds, jmap: s.jmap };
}

export const appendLiteralPlus: Scenario = {
  id: 'append', title: `APPEND with LITERAL+, ${APPEND_COUNT} pipelined messages`, unit: 'msg/s', better: 'higher', cold: false,
  goal: 'none yet', run: appendThroughput,
};
