/**
 * The `fetch` JmapClient uses when it is given none: the global `fetch`, or a runtime's faster client for the same
 * exchanges (Node: src/transport/node-fetch.ts, installed by `startNodeGateway`). The preferred client is used only
 * while the global `fetch` is still the one it was installed over, so code that wraps or replaces the global
 * (tests counting JMAP requests, fault injection) keeps seeing every request.
 */
let preferred: { fetch: typeof fetch; over: typeof fetch } | null = null;

/**
 * Use `f` for JMAP exchanges while the global `fetch` is `native` (the runtime's own, captured by the caller when
 * its module loaded, before any test could wrap it).
 */
export function preferFetch(f: typeof fetch, native: typeof fetch): void {
  preferred = { fetch: f, over: native };
}

export const jmapFetch: typeof fetch = (input, init) => {
  const global = globalThis.fetch;
  return preferred && global === preferred.over ? preferred.fetch(input, init) : global(input, init);
};
