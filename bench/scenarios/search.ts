/**
 * Issue 8 scenario 4: SEARCH latency in a warm session (after LOGIN and SELECT INBOX), the UID SEARCH command alone:
 * a header search, a text search (the gateway decides TEXT exactly, over the whole messages: RFC 9051 §6.4.4), and a
 * flag search. The number of hits is kept per target (`extra.hits`) so the report shows both servers found the same.
 */
import { MeasuredSession, type Scenario, type ScenarioContext } from '../scenario.ts';

/** Hits in the `* SEARCH` (or rev2 `* ESEARCH ... ALL`) answer. */
function hits(lines: string[]): number {
  const line = lines.find((l) => /^\* (E?SEARCH)\b/i.test(l)) ?? '';
  const plain = /^\* SEARCH((?: \d+)*)/i.exec(line);
  return plain ? plain[1]!.trim().split(' ').filter(Boolean).length : 0;
}

function search(command: string, index = false) {
  return async (ctx: ScenarioContext) => {
    if (index && ctx.target.indexPort === undefined) throw new Error(`${ctx.target.name}: no index-mode port`);
    const s = await MeasuredSession.open(index ? { ...ctx.target, port: ctx.target.indexPort! } : ctx.target);
    await s.login();
    await s.select(ctx.messages);
    const r = await s.run(command, command, { keepLines: true });
    await s.close();
    return { value: r.ms, jmap: s.jmap, extra: { hits: hits(r.lines) } };
  };
}

const scenario = (id: string, title: string, command: string, goal = 'none yet'): Scenario => ({
  id, title: `${title}: ${command}`, unit: 'ms', better: 'lower', cold: false, goal, run: search(command),
});

/** Words present in both corpora (the generated one draws its subjects and bodies from bench/corpus.ts WORDS). */
export const searchHeader = scenario('search-header', 'SEARCH, header', 'UID SEARCH HEADER Subject "the"');
export const searchText = scenario('search-text', 'SEARCH, text (exact)', 'UID SEARCH TEXT "invoice"',
  '<= 100 ms in index mode (exact mode: none)');
/** The same TEXT search on the gateway's index-mode port: the store's Email/query `text` filter decides (RFC 8621 §4.4.1). */
export const searchTextIndex: Scenario = {
  ...scenario('search-text-index', 'SEARCH, text (gateway index mode)', 'UID SEARCH TEXT "invoice"', '<= 100 ms'),
  targets: ['gateway'], compareWith: 'search-text', run: search('UID SEARCH TEXT "invoice"', true),
};
export const searchFlag = scenario('search-flag', 'SEARCH, flag', 'UID SEARCH UNSEEN');
