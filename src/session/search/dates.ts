/**
 * Dates as SEARCH and SORT see them.
 *
 * - SEARCH BEFORE/ON/SINCE (RFC 9051 §6.4.4) compare the internal date "disregarding time and timezone". JMAP's
 *   `receivedAt` is an instant (RFC 8621 §4.1.1, UTC); the gateway's notion of the internal date's calendar day is
 *   its UTC date (the same instant FETCH INTERNALDATE shows with `+0000`).
 * - SEARCH SENTBEFORE/SENTON/SENTSINCE use the Date: header's own calendar date, in its own zone (RFC 9051 §6.4.4);
 *   a message without a parsable Date: uses its internal date (as RFC 5256 §2.2 does for sorting).
 * - SORT DATE and THREAD use the sent date as an instant normalized to UTC (RFC 5256 §2.2): an invalid zone counts
 *   as UTC, an invalid time as 00:00:00.
 */

/** A parsed RFC 5322 §3.3 date-time: its calendar day in its own zone (`YYYY-MM-DD`) and its instant (ms UTC). */
export interface SentDate {
  day: string;
  utcMs: number;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** RFC 5322 §4.3 obsolete zone names (military zones count as +0000, as §4.3 says they should). */
const ZONES: Record<string, number> = {
  UT: 0, GMT: 0, Z: 0, EDT: -4 * 60, EST: -5 * 60, CDT: -5 * 60, CST: -6 * 60, MDT: -6 * 60, MST: -7 * 60,
  PDT: -7 * 60, PST: -8 * 60,
};

const DATE_TIME = /^\s*(?:[a-z]+\s*,\s*)?(\d{1,2})\s+([a-z]{3})[a-z]*\s+(\d{2,4})(?:\s+(\d{1,2})\s*:\s*(\d{2})(?:\s*:\s*(\d{2}))?)?(?:\s+([+-]\d{4}|[a-z]+))?/i;

/** Parses an RFC 5322 §3.3 date-time (obsolete forms of §4.3 included); null when no day/month/year is found. */
export function parseSentDate(value: string): SentDate | null {
  const m = DATE_TIME.exec(value.replace(/\([^()]*\)/g, ' '));
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  let year = Number(m[3]);
  if (month < 0) return null;
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
  else if (m[3]!.length === 3) year += 1900;
  const day = Number(m[1]);
  if (day < 1 || day > 31) return null;
  let [h, min, sec] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (h > 23 || min > 59 || sec > 60) [h, min, sec] = [0, 0, 0];
  let offset = 0;
  const zone = m[7];
  if (zone && /^[+-]\d{4}$/.test(zone)) {
    const mins = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3, 5));
    offset = zone[0] === '-' ? -mins : mins;
  } else if (zone) {
    offset = ZONES[zone.toUpperCase()] ?? 0;
  }
  const local = Date.UTC(year, month, day, h, min, sec);
  if (Number.isNaN(local)) return null;
  return { day: isoDay(Date.UTC(year, month, day)), utcMs: local - offset * 60_000 };
}

/** `YYYY-MM-DD` of an instant in UTC. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** The UTC calendar day of a JMAP UTCDate string (RFC 8620 §1.4), the gateway's internal-date day. */
export function internalDay(receivedAt: string): string {
  const ms = Date.parse(receivedAt);
  return Number.isNaN(ms) ? '1970-01-01' : isoDay(ms);
}

/** RFC 9051 §6.4.4 date comparison of two `YYYY-MM-DD` days. */
export function compareDay(day: string, op: 'BEFORE' | 'ON' | 'SINCE', date: string): boolean {
  if (op === 'BEFORE') return day < date;
  if (op === 'ON') return day === date;
  return day >= date;
}
