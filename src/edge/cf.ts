/**
 * The Cloudflare Workers types the edge modules use, taken from @cloudflare/workers-types' importable variant (no
 * globals, so the Node type-check of the rest of the project is untouched). `cloudflare:workers` is declared in
 * cloudflare-workers.d.ts beside this file.
 */
export type {
  DurableObjectNamespace, DurableObjectState, ExecutionContext, KVNamespace, Socket, SqlStorage,
} from '@cloudflare/workers-types/latest/index.ts';
