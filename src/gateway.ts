/**
 * The gateway core, runtime-neutral: a session per connection over shared configuration. The Node and workerd
 * entry points build a `GatewayConfig` and hand each accepted connection to `newSession`.
 */
import { Session, type SessionIO } from './session/session.ts';
import type { ConnectionFacts, GatewayConfig } from './session/context.ts';

export function newSession(config: GatewayConfig, connection: ConnectionFacts, io: SessionIO): Session {
  return new Session(config, connection, io);
}
