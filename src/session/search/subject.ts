/**
 * RFC 5256 §2.1 base subject extraction, exactly as its steps (1)-(7) say, and whether a subject marks a reply or
 * forward (RFC 5256 §3 REFERENCES: extraction removed a subj-refwd, a "(fwd)" subj-trailer, or a subj-fwd-hdr
 * with its subj-fwd-trl). Input is the decoded header text (step 1's RFC 2047 decoding done by the caller).
 */

/** `subj-blob = "[" *BLOBCHAR "]" *WSP` at the start (BLOBCHAR excludes `[` and `]`). */
const BLOB = /^\[[^[\]]*\][ \t]*/;
/** `subj-leader = (*subj-blob subj-refwd) / WSP`, `subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"`. */
const LEADER_REFWD = /^(?:\[[^[\]]*\][ \t]*)*(?:re|fwd?)[ \t]*(?:\[[^[\]]*\][ \t]*)?:/i;
const FWD_HDR = /^\[fwd:/i;

export interface BaseSubject {
  base: string;
  replyOrForward: boolean;
}

export function baseSubject(subject: string): BaseSubject {
  // (1) tabs and continuations to space, runs of spaces to one.
  let s = subject.replace(/\r?\n/g, '').replace(/[ \t]+/g, ' ');
  let replyOrForward = false;
  for (;;) {
    // (2) trailing subj-trailer: "(fwd)" or WSP, repeatedly.
    for (;;) {
      if (s.endsWith(' ')) s = s.slice(0, -1);
      else if (/\(fwd\)$/i.test(s)) { s = s.slice(0, -5); replyOrForward = true; }
      else break;
    }
    // (3)-(5) leaders and blobs.
    for (;;) {
      const refwd = LEADER_REFWD.exec(s);
      if (refwd) { s = s.slice(refwd[0].length); replyOrForward = true; continue; }
      if (s.startsWith(' ')) { s = s.slice(1); continue; }
      const blob = BLOB.exec(s);
      if (blob && s.length > blob[0].length) { s = s.slice(blob[0].length); continue; }
      break;
    }
    // (6) "[fwd:" ... "]".
    if (FWD_HDR.test(s) && s.endsWith(']')) {
      s = s.slice(5, -1);
      replyOrForward = true;
      continue;
    }
    return { base: s, replyOrForward };
  }
}
