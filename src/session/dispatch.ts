/**
 * The command table: for every command of the grammar, the states it is valid in (RFC 9051 §6, §3) and its
 * handler. `handler: null` means parsed but not served yet: the session answers `NO [CANNOT]` naming it.
 */
import type { CommandOf, CommandType } from '../protocol/types.ts';
import type { Completion, Session } from './session.ts';
import { ANY, AUTHENTICATED, NOT_AUTHENTICATED, SELECTED, type SessionState } from './state.ts';
import { capabilityCommand, enableCommand, idCommand, logoutCommand, noopCommand } from './commands/any-state.ts';
import { authenticateCommand, loginCommand, starttlsCommand } from './commands/auth.ts';
import { listCommand } from './commands/list.ts';
import { checkCommand, closeCommand, selectCommand, unselectCommand } from './commands/select.ts';
import { fetchCommand } from './commands/fetch.ts';
import { idleCommand } from './commands/idle.ts';

/** What a handler returns: the tagged OK's text/code, nothing (default text), or 'deferred' (it answers later). */
export type HandlerResult = Completion | void | 'deferred';
export type Handler<T extends CommandType> = (session: Session, command: CommandOf<T>) => Promise<HandlerResult>;

export interface DispatchEntry<T extends CommandType> {
  states: readonly SessionState[];
  handler: Handler<T> | null;
}

export const DISPATCH: { readonly [T in CommandType]: DispatchEntry<T> } = {
  // RFC 9051 §6.1: any state
  CAPABILITY: { states: ANY, handler: capabilityCommand },
  NOOP: { states: ANY, handler: noopCommand },
  LOGOUT: { states: ANY, handler: logoutCommand },
  ID: { states: ANY, handler: idCommand }, // RFC 2971 §3.1: any state
  // RFC 9051 §6.2: not authenticated
  STARTTLS: { states: NOT_AUTHENTICATED, handler: starttlsCommand },
  AUTHENTICATE: { states: NOT_AUTHENTICATED, handler: authenticateCommand },
  LOGIN: { states: NOT_AUTHENTICATED, handler: loginCommand },
  // RFC 9051 §6.3: authenticated (and selected)
  ENABLE: { states: AUTHENTICATED, handler: enableCommand },
  SELECT: { states: AUTHENTICATED, handler: selectCommand },
  EXAMINE: { states: AUTHENTICATED, handler: selectCommand },
  CREATE: { states: AUTHENTICATED, handler: null },
  DELETE: { states: AUTHENTICATED, handler: null },
  RENAME: { states: AUTHENTICATED, handler: null },
  SUBSCRIBE: { states: AUTHENTICATED, handler: null },
  UNSUBSCRIBE: { states: AUTHENTICATED, handler: null },
  LIST: { states: AUTHENTICATED, handler: listCommand },
  LSUB: { states: AUTHENTICATED, handler: null },
  NAMESPACE: { states: AUTHENTICATED, handler: null },
  STATUS: { states: AUTHENTICATED, handler: null },
  APPEND: { states: AUTHENTICATED, handler: null },
  IDLE: { states: AUTHENTICATED, handler: idleCommand },
  GETQUOTA: { states: AUTHENTICATED, handler: null },
  GETQUOTAROOT: { states: AUTHENTICATED, handler: null },
  SETQUOTA: { states: AUTHENTICATED, handler: null },
  GETJMAPACCESS: { states: AUTHENTICATED, handler: null },
  COMPRESS: { states: AUTHENTICATED, handler: null },
  // RFC 9051 §6.4: selected
  CHECK: { states: SELECTED, handler: checkCommand },
  CLOSE: { states: SELECTED, handler: closeCommand },
  UNSELECT: { states: SELECTED, handler: unselectCommand },
  EXPUNGE: { states: SELECTED, handler: null },
  SEARCH: { states: SELECTED, handler: null },
  SORT: { states: SELECTED, handler: null },
  THREAD: { states: SELECTED, handler: null },
  FETCH: { states: SELECTED, handler: fetchCommand },
  STORE: { states: SELECTED, handler: null },
  COPY: { states: SELECTED, handler: null },
  MOVE: { states: SELECTED, handler: null },
};
