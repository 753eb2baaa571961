/**
 * Every size and count limit of the IMAP protocol layer, in one place (DESIGN.md rule 13: limits that end the
 * connection answer BYE, limits that refuse one command answer NO/BAD).
 *
 * RFC 9051 §4 sets no maximum line length, but §2.2.1 / RFC 7162 §4 recommend servers accept at least 8192 octets
 * per line; we accept far more because some clients send long UID sets. Literals are counted separately from the
 * line that carries them.
 */

export interface Limits {
  /**
   * Longest command line in octets, excluding literal data but including `{n}` markers and CRLF.
   * A longer line is fatal: `* BYE` and close (we cannot find where the command ends).
   */
  readonly maxLineLength: number;
  /**
   * Largest literal (RFC 9051 §4.3) or literal8 (RFC 3516 §4.2) we accept, synchronizing or not. This is the
   * APPEND message size limit, advertised as `APPENDLIMIT=n` (RFC 7889). A larger synchronizing literal is
   * refused before the client sends it (`NO [TOOBIG]`, no `+`).
   */
  readonly maxLiteralSize: number;
  /**
   * Largest non-synchronizing literal `{n+}` (RFC 7888 LITERAL+) we accept. LITERAL- servers allow only 4096
   * (RFC 7888 §5); we advertise LITERAL+, so clients may send up to `maxLiteralSize` without waiting.
   * A larger one is read and discarded, then the command is refused (RFC 7888 §4).
   */
  readonly maxNonSyncLiteral: number;
  /**
   * A non-synchronizing literal larger than this is not even read and discarded: the connection is closed with
   * BYE (an absurd size, most likely garbage or an attack).
   */
  readonly maxDiscardLiteral: number;
  /** Largest whole command: all its lines plus all literal data (MULTIAPPEND, RFC 3502, sends many literals). */
  readonly maxCommandSize: number;
  /** Most literals in one command (MULTIAPPEND messages, SEARCH strings...). */
  readonly maxLiteralsPerCommand: number;
  /** BAD (syntax) answers in one connection before `* BYE` (DESIGN.md rule 13). */
  readonly maxBadCommands: number;
  /** Unknown command names before authentication before `* BYE` (not an IMAP client: stop early). */
  readonly maxUnknownBeforeAuth: number;
  /** Deepest parenthesis nesting the parser follows (SEARCH keys, BODYSTRUCTURE-like lists). */
  readonly maxNestingDepth: number;
  /** Most ranges in one sequence set (RFC 9051 §9 `sequence-set`), e.g. `1,3,5:7` has 3. */
  readonly maxSequenceRanges: number;
  /** Most search keys in one SEARCH/SORT/THREAD command (counting nested ones). */
  readonly maxSearchKeys: number;
  /** Most messages in one MULTIAPPEND (RFC 3502). */
  readonly maxAppendMessages: number;
  /** Longest SASL response line (AUTHENTICATE continuation, RFC 9051 §6.2.2), base64 included. */
  readonly maxSaslLineLength: number;
}

const KiB = 1024;
const MiB = 1024 * KiB;

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxLineLength: 64 * KiB,
  maxLiteralSize: 64 * MiB,
  maxNonSyncLiteral: 64 * MiB,
  maxDiscardLiteral: 256 * MiB,
  maxCommandSize: 128 * MiB,
  maxLiteralsPerCommand: 1000,
  maxBadCommands: 10,
  maxUnknownBeforeAuth: 3,
  maxNestingDepth: 32,
  maxSequenceRanges: 10_000,
  maxSearchKeys: 1_000,
  maxAppendMessages: 1_000,
  maxSaslLineLength: 64 * KiB,
});

/** DEFAULT_LIMITS with some values replaced (configuration, tests). */
export function withLimits(overrides: Partial<Limits>): Limits {
  return Object.freeze({ ...DEFAULT_LIMITS, ...overrides });
}
