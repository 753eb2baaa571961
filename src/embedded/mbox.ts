/**
 * mbox splitting (RFC 4155 "default" format, with mboxrd quoting): messages start at lines beginning with
 * `From `; the separator line is dropped, the blank line that ends each message in the file is dropped, and
 * quoted `>From ` lines (any number of `>`) lose one `>`.
 */
const LF = 10;

function isFromLine(b: Uint8Array, i: number): boolean {
  return b[i] === 70 && b[i + 1] === 114 && b[i + 2] === 111 && b[i + 3] === 109 && b[i + 4] === 32;
}

/** Splits an mbox file into raw messages (exact bytes otherwise). */
export function splitMbox(data: Uint8Array): Uint8Array[] {
  const starts: number[] = [];
  for (let i = 0; i < data.length; i = data.indexOf(LF, i) + 1 || data.length) {
    if (isFromLine(data, i)) starts.push(i);
  }
  const out: Uint8Array[] = [];
  starts.forEach((s, k) => {
    const bodyStart = (data.indexOf(LF, s) + 1) || data.length;
    let end = k + 1 < starts.length ? starts[k + 1]! : data.length;
    // Drop the empty line that separates messages in the file ("\n\n" or "\r\n\r\n" before the next From).
    if (end - 2 >= bodyStart && data[end - 1] === LF && data[end - 2] === LF) end -= 1;
    else if (end - 4 >= bodyStart && data[end - 1] === LF && data[end - 2] === 13 && data[end - 3] === LF && data[end - 4] === 13) end -= 2;
    out.push(unquoteFrom(data.subarray(bodyStart, end)));
  });
  return out;
}

/** Removes one `>` from lines matching `>+From `. */
function unquoteFrom(msg: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let last = 0;
  for (let i = 0; i < msg.length; i = msg.indexOf(LF, i) + 1 || msg.length) {
    let j = i;
    while (msg[j] === 62) j++;
    if (j > i && isFromLine(msg, j)) { parts.push(msg.subarray(last, i)); last = i + 1; }
  }
  if (parts.length === 0) return msg.slice();
  parts.push(msg.subarray(last));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
