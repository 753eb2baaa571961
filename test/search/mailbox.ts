/**
 * A hand-built mailbox for SEARCH / SORT / THREAD known-answer tests: 10 messages with chosen headers, dates,
 * flags, encodings and sizes. Sequence number n = index + 1 (imported in this order, increasing receivedAt).
 * Expected answers in the tests are worked out by hand from these definitions and the RFCs.
 */
import type { TestBed } from '../helpers/gateway.ts';

export interface Spec {
  headers: string[];
  body: string | Uint8Array;
  receivedAt: string;
  keywords?: string[];
}

const enc = new TextEncoder();

export const SPECS: Spec[] = [
  { // 1
    headers: ['From: Alice Smith <alice@example.com>', 'To: bob@example.org', 'Subject: Meeting agenda',
      'Date: Mon, 01 Jan 2024 09:00:00 +0000', 'Message-ID: <m1@example.com>', 'Content-Type: text/plain; charset=us-ascii'],
    body: "Let's discuss the budget.\r\n", receivedAt: '2024-01-01T10:00:00Z', keywords: ['$seen'],
  },
  { // 2: sent on Jan 2 in its own zone, Jan 3 in UTC
    headers: ['From: Bob <bob@example.org>', 'To: alice@example.com', 'Cc: Carol <carol@example.net>',
      'Subject: Re: Meeting agenda', 'Date: Tue, 02 Jan 2024 23:30:00 -0500', 'Message-ID: <m2@example.com>',
      'In-Reply-To: <m1@example.com>', 'References: <m1@example.com>'],
    body: 'Sounds good to me.\r\n', receivedAt: '2024-01-03T05:00:00Z', keywords: ['$seen', '$answered'],
  },
  { // 3: RFC 2047 From and Subject ("Grüße aus Berlin"), quoted-printable UTF-8 body ("Schöne Grüße")
    headers: ['From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen@example.de>', 'To: alice@example.com',
      'Subject: =?UTF-8?B?R3LDvMOfZSBhdXMgQmVybGlu?=', 'Date: Fri, 05 Jan 2024 08:00:00 +0100',
      'Message-ID: <m3@example.de>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable'],
    body: 'Sch=C3=B6ne Gr=C3=BC=C3=9Fe vom Alexander=\r\nplatz\r\n', receivedAt: '2024-01-05T07:30:00Z', keywords: ['$flagged'],
  },
  { // 4: multipart/alternative, base64 plain part, HTML part
    headers: ['From: carol@example.net', 'To: Team <team@example.com>', 'Subject: [list] Weekly report',
      'Date: Wed, 10 Jan 2024 12:00:00 +0000', 'Message-ID: <m4@example.net>', 'MIME-Version: 1.0',
      'Content-Type: multipart/alternative; boundary="b1"'],
    body: ['--b1', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '',
      'UXVhcnRlcmx5IG51bWJlcnMgYXR0YWNoZWQu', '--b1', 'Content-Type: text/html; charset=utf-8', '',
      '<p>Quarterly <b>numbers</b> attached &amp; reviewed.</p>', '--b1--', ''].join('\r\n'),
    receivedAt: '2024-01-10T12:05:00Z', keywords: ['$forwarded'],
  },
  { // 5: a forward in the m1 thread; large
    headers: ['From: Dave <dave@example.com>', 'To: erin@example.com', 'Subject: Fwd: Meeting agenda',
      'Date: Fri, 12 Jan 2024 10:00:00 +0000', 'Message-ID: <m5@example.com>',
      'References: <m1@example.com> <m2@example.com>'],
    body: `${'padding line for size tests\r\n'.repeat(100)}`, receivedAt: '2024-01-12T10:01:00Z', keywords: ['$draft'],
  },
  { // 6: no Date: header; a custom header
    headers: ['From: frank@example.com', 'To: alice@example.com', 'Subject: No date here', 'X-Custom: Foo-Bar',
      'Message-ID: <m6@example.com>'],
    body: 'Nothing much.\r\n', receivedAt: '2024-01-15T23:59:59Z',
  },
  { // 7: raw 8-bit UTF-8 header
    headers: ['From: grace@example.com', 'To: alice@example.com', 'Subject: Café au lait',
      'Date: Thu, 01 Feb 2024 07:00:00 +0000', 'Message-ID: <m7@example.com>'],
    body: 'Milk and coffee.\r\n', receivedAt: '2024-02-01T07:00:00Z',
  },
  { // 8: reply to a message not in the mailbox
    headers: ['From: heidi@example.com', 'To: alice@example.com', 'Subject: Re: Lost thread',
      'Date: Sat, 03 Feb 2024 09:00:00 +0000', 'Message-ID: <m8@example.com>', 'References: <missing@example.com>'],
    body: 'Replying to something you do not have.\r\n', receivedAt: '2024-02-03T09:00:00Z',
  },
  { // 9: same base subject as 8, no references, sent earlier than 8
    headers: ['From: ivan@example.com', 'To: alice@example.com', 'Subject: Lost thread',
      'Date: Fri, 02 Feb 2024 09:00:00 +0000', 'Message-ID: <m9@example.com>'],
    body: 'The original.\r\n', receivedAt: '2024-02-04T09:00:00Z', keywords: ['custom1'],
  },
  { // 10: duplicate Message-ID of 1; obsolete date form
    headers: ['From: "Smith, John" <jsmith@example.com>', 'To: alice@example.com', 'Subject: [PATCH] Re: [list] budget (fwd)',
      'Date: 1 Mar 24 12:00 EST', 'Message-ID: <m1@example.com>'],
    body: 'Budget patch.\r\n', receivedAt: '2024-03-01T17:00:00Z', keywords: ['$seen', '$flagged'],
  },
];

export function raw(spec: Spec): Uint8Array {
  const head = enc.encode(spec.headers.join('\r\n') + '\r\n\r\n');
  const body = typeof spec.body === 'string' ? enc.encode(spec.body) : spec.body;
  const out = new Uint8Array(head.length + body.length);
  out.set(head);
  out.set(body, head.length);
  return out;
}

export const SIZES = SPECS.map((s) => raw(s).length);

export function importAll(bed: TestBed): void {
  for (const s of SPECS) {
    bed.store.importMessage(bed.user, 'inbox', raw(s), { receivedAt: new Date(s.receivedAt), keywords: s.keywords ?? [] });
  }
}
