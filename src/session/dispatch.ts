/**
 * The command table: for every command of the grammar, the states it is valid in (RFC 9051 §6, §3) and its
 * handler. `handler: null` means parsed but not served yet: the session answers `NO [CANNOT]` naming it.
 */
import type { CommandOf, CommandType } from '../protocol/types.ts';
import type { Completion, Session } from './session.ts';
import { ANY, AUTHENTICATED, NOT_AUTHENTICATED, SELECTED, type SessionState } from './state.ts';
import { capabilityCommand, enableCommand, idCommand, logoutCommand, noopCommand } from './commands/any-state.ts';
import { authenticateCommand, loginCommand, starttlsCommand } from './commands/auth.ts';
import { listCommand, lsubCommand } from './commands/list.ts';
import { createCommand, deleteCommand, renameCommand, subscribeCommand } from './commands/mailbox-admin.ts';
import { namespaceCommand } from './commands/namespace.ts';
import { statusCommand } from './commands/status.ts';
import { checkCommand, closeCommand, selectCommand, unselectCommand } from './commands/select.ts';
import { fetchCommand } from './commands/fetch.ts';
import { storeCommand } from './commands/store.ts';
import { expungeCommand } from './commands/expunge-cmd.ts';
import { copyMoveCommand } from './commands/copy-move.ts';
import { appendCommand } from './commands/append.ts';
import { idleCommand } from './commands/idle.ts';
import { searchCommand } from './commands/search.ts';
import { sortCommand } from './commands/sort.ts';
import { threadCommand } from './commands/thread.ts';
import { getQuotaCommand, getQuotaRootCommand, setQuotaCommand } from './commands/quota.ts';
import { getJmapAccessCommand } from './commands/jmapaccess.ts';

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
  CREATE: { states: AUTHENTICATED, handler: createCommand },
  DELETE: { states: AUTHENTICATED, handler: deleteCommand },
  RENAME: { states: AUTHENTICATED, handler: renameCommand },
  SUBSCRIBE: { states: AUTHENTICATED, handler: subscribeCommand },
  UNSUBSCRIBE: { states: AUTHENTICATED, handler: subscribeCommand },
  LIST: { states: AUTHENTICATED, handler: listCommand },
  LSUB: { states: AUTHENTICATED, handler: lsubCommand },
  NAMESPACE: { states: AUTHENTICATED, handler: namespaceCommand },
  STATUS: { states: AUTHENTICATED, handler: statusCommand },
  APPEND: { states: AUTHENTICATED, handler: appendCommand },
  IDLE: { states: AUTHENTICATED, handler: idleCommand },
  GETQUOTA: { states: AUTHENTICATED, handler: getQuotaCommand }, // RFC 9208 §4.1.1
  GETQUOTAROOT: { states: AUTHENTICATED, handler: getQuotaRootCommand }, // RFC 9208 §4.1.2
  SETQUOTA: { states: AUTHENTICATED, handler: setQuotaCommand }, // RFC 9208 §4.1.3
  GETJMAPACCESS: { states: AUTHENTICATED, handler: getJmapAccessCommand }, // RFC 9698
  COMPRESS: { states: AUTHENTICATED, handler: null },
  // RFC 9051 §6.4: selected
  CHECK: { states: SELECTED, handler: checkCommand },
  CLOSE: { states: SELECTED, handler: closeCommand },
  UNSELECT: { states: SELECTED, handler: unselectCommand },
  EXPUNGE: { states: SELECTED, handler: expungeCommand },
  SEARCH: { states: SELECTED, handler: searchCommand },
  SORT: { states: SELECTED, handler: sortCommand },
  THREAD: { states: SELECTED, handler: threadCommand },
  FETCH: { states: SELECTED, handler: fetchCommand },
  STORE: { states: SELECTED, handler: storeCommand },
  COPY: { states: SELECTED, handler: copyMoveCommand },
  MOVE: { states: SELECTED, handler: copyMoveCommand },
};
