/**
 * The part of the `cloudflare:workers` runtime module the edge code uses: the Durable Object base class, whose
 * public methods workerd exposes as RPC (https://developers.cloudflare.com/durable-objects/api/base/).
 */
declare module 'cloudflare:workers' {
  import type { DurableObjectState } from '@cloudflare/workers-types/latest/index.ts';
  export abstract class DurableObject<Env = unknown> {
    protected ctx: DurableObjectState;
    protected env: Env;
    constructor(ctx: DurableObjectState, env: Env);
  }
}
