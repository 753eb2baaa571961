/**
 * The flag arguments of STORE (RFC 9051 §6.4.6) and APPEND (§6.3.12), checked and split into what JMAP keeps
 * (keywords, RFC 8621 §4.1.1) and what the gateway keeps (`\Deleted`, DESIGN.md rule 6).
 *
 * - `\Recent` "can not be used as an argument in a STORE or APPEND command" (RFC 3501 §2.3.2): BAD.
 * - A backslash flag RFC 9051 §2.3.2 does not define is not a flag at all (`flag` grammar, §9): BAD.
 * - Keywords are atoms (checked by the parser); JMAP caps them at 255 octets (RFC 8621 §4.1.1): NO [LIMIT].
 */
import { ImapError } from '../protocol/errors.ts';
import { flagToKeyword, isDeletedFlag } from './flags.ts';

export interface FlagArgs {
  /** JMAP keywords, lower case, no duplicates. */
  keywords: string[];
  /** `\Deleted` was among the flags. */
  deleted: boolean;
}

export function parseFlagArgs(flags: readonly string[]): FlagArgs {
  const keywords = new Set<string>();
  let deleted = false;
  for (const f of flags) {
    if (isDeletedFlag(f)) { deleted = true; continue; }
    if (f.toLowerCase() === '\\recent') throw ImapError.bad('\\Recent cannot be set by a client (RFC 3501 §2.3.2)');
    const k = flagToKeyword(f);
    if (k === null) throw ImapError.bad(`Unknown system flag ${f}`);
    if (k.length > 255) throw ImapError.no('Keyword too long (at most 255 characters)', 'LIMIT');
    keywords.add(k);
  }
  return { keywords: [...keywords], deleted };
}
