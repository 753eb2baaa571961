/**
 * Demo mailbox content: realistic messages a person would enjoy reading in a mail client. Built with CRLF line
 * ends (RFC 5322 §2.1) except the one deliberately bare-LF message; non-ASCII only as RFC 2047 encoded words in
 * headers and quoted-printable / base64 in bodies.
 */

/** A demo message: target mailbox (role or path), keywords and the raw text. */
export interface DemoMessage { mailbox: string; keywords: string[]; raw: string }

const crlf = (lines: string[]) => lines.join('\r\n');

/** Quoted-printable encoding of UTF-8 text (RFC 2045 §6.7), soft line breaks at 76 columns. */
export function qp(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let enc = '';
    for (const b of new TextEncoder().encode(line)) {
      enc += (b >= 33 && b <= 126 && b !== 61) || b === 32 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    enc = enc.replace(/ $/, '=20');
    while (enc.length > 75) {
      let cut = 75;
      if (enc[cut - 1] === '=') cut -= 1; else if (enc[cut - 2] === '=') cut -= 2;
      out.push(enc.slice(0, cut) + '=');
      enc = enc.slice(cut);
    }
    out.push(enc);
  }
  return out.join('\r\n');
}

const PNG = 'iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAALklEQVR4nGP4QiJgoLsG7aobmAinBqyq0fQwEKMaWc+oBtI0kBwP5MQ0MYBkDQAkIkasqtrmkwAAAABJRU5ErkJggg==';
const ME = 'Alex Demo <demo@example.org>';

const plain = (o: { from: string; to?: string; subject: string; date: string; id: string; extra?: string[]; body: string }) => crlf([
  `From: ${o.from}`, `To: ${o.to ?? ME}`, `Subject: ${o.subject}`, `Date: ${o.date}`, `Message-ID: <${o.id}>`,
  ...(o.extra ?? []), 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable', '', qp(o.body), '']);

export const DEMO_MESSAGES: DemoMessage[] = [
  { mailbox: 'inbox', keywords: ['$seen'], raw: plain({
    from: 'Maya Lindqvist <maya@lindqvist.example>', subject: 'Welcome to the gateway demo',
    date: 'Mon, 6 Oct 2025 08:02:11 +0200', id: 'welcome.20251006@lindqvist.example',
    body: 'Hi Alex,\n\nThis account is served by the embedded JMAP store and reached over IMAP through the gateway.\nEverything you see here lives in one SQLite file.\n\nHave fun poking at it!\nMaya' }) },
  { mailbox: 'inbox', keywords: ['$seen', '$flagged'], raw: crlf([
    'From: =?UTF-8?Q?Ren=C3=A9e_Fran=C3=A7ois?= <renee@atelier.example>', `To: ${ME}`,
    'Subject: =?UTF-8?Q?Caf=C3=A9_on_Thursday=3F?=', 'Date: Tue, 7 Oct 2025 17:45:00 +0200',
    'Message-ID: <cafe.1@atelier.example>', 'MIME-Version: 1.0',
    'Content-Type: multipart/alternative; boundary="=_alt_cafe"', '',
    '--=_alt_cafe', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '',
    qp('Bonjour Alex,\n\nShall we meet at the café près de la gare on Thursday at 10:00?\nI will bring the crème brûlée recipe.\n\nÀ bientôt,\nRenée'),
    '--=_alt_cafe', 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '',
    qp('<html><body><p>Bonjour Alex,</p><p>Shall we meet at the <b>café près de la gare</b> on Thursday at 10:00?<br>I will bring the crème brûlée recipe.</p><p>À bientôt,<br>Renée</p></body></html>'),
    '--=_alt_cafe--', '']) },
  { mailbox: 'inbox', keywords: [], raw: crlf([
    'From: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <taro.yamada@tokyo.example>', `To: ${ME}`,
    'Subject: =?UTF-8?B?5Lya6K2w44Gu6K2w5LqL6YyyIC0g56eL44Gu6KiI55S7?=', 'Date: Wed, 8 Oct 2025 09:30:00 +0900',
    'Message-ID: <minutes-autumn@tokyo.example>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable', '',
    qp('アレックスさん\n\n先週の会議の議事録を共有します。\n・秋の計画は予定どおり進めます\n・次回は10月20日です\n\nよろしくお願いします。\n山田太郎'), '']) },
  { mailbox: 'inbox', keywords: ['$seen'], raw: crlf([
    'From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@mueller.example>', `To: ${ME}`,
    'Subject: =?ISO-8859-1?Q?Gr=FC=DFe_aus_M=FCnchen?=', 'Date: Thu, 9 Oct 2025 19:12:40 +0200',
    'Message-ID: <gruesse.2025@mueller.example>', 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable', '',
    qp('Hallo Alex,\n\nviele Grüße aus München! Das Oktoberfest ist vorbei, die Straßen sind wieder ruhig.\nNächste Woche schicke ich dir die Fotos.\n\nBis bald,\nJürgen'), '']) },
  { mailbox: 'inbox', keywords: ['$seen'], raw: crlf([
    'From: Priya Raman <priya@design.example>', `To: ${ME}`, 'Cc: Maya Lindqvist <maya@lindqvist.example>',
    'Subject: Logo draft attached', 'Date: Fri, 10 Oct 2025 11:05:00 +0100', 'Message-ID: <logo-draft@design.example>',
    'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="mixed-logo-42"', '',
    'This is a multi-part message in MIME format.', '',
    '--mixed-logo-42', 'Content-Type: text/plain; charset=us-ascii', '',
    'Hi Alex,', '', 'Here is the first logo draft (16x16, so squint a little).', 'Feedback welcome!', '', 'Priya', '',
    '--mixed-logo-42', 'Content-Type: image/png; name="logo-draft.png"', 'Content-Transfer-Encoding: base64',
    'Content-Disposition: attachment; filename="logo-draft.png"', '', PNG, '',
    '--mixed-logo-42--', '']) },
  { mailbox: 'inbox', keywords: ['$seen'], raw: plain({
    from: 'Sam Okafor <sam@okafor.example>', to: `${ME}, Maya Lindqvist <maya@lindqvist.example>`,
    subject: 'Hiking this weekend?', date: 'Mon, 13 Oct 2025 07:55:00 +0000', id: 'hike-1@okafor.example',
    body: 'Hey both,\n\nThe forecast for Saturday looks great. Shall we do the ridge trail? Start 8:00 at the station.\n\nSam' }) },
  { mailbox: 'inbox', keywords: ['$seen', '$answered'], raw: plain({
    from: 'Maya Lindqvist <maya@lindqvist.example>', to: `Sam Okafor <sam@okafor.example>, ${ME}`,
    subject: 'Re: Hiking this weekend?', date: 'Mon, 13 Oct 2025 09:10:00 +0200', id: 'hike-2@lindqvist.example',
    extra: ['In-Reply-To: <hike-1@okafor.example>', 'References: <hike-1@okafor.example>'],
    body: 'Count me in! I will bring sandwiches.\n\n> The forecast for Saturday looks great.\n\nMaya' }) },
  { mailbox: 'inbox', keywords: [], raw: plain({
    from: 'Sam Okafor <sam@okafor.example>', to: `Maya Lindqvist <maya@lindqvist.example>, ${ME}`,
    subject: 'Re: Hiking this weekend?', date: 'Tue, 14 Oct 2025 18:20:00 +0000', id: 'hike-4@okafor.example',
    extra: ['In-Reply-To: <hike-3@example.org>', 'References: <hike-1@okafor.example> <hike-2@lindqvist.example> <hike-3@example.org>'],
    body: 'Great, see you both at 8:00. Bring a warm jacket, it gets windy on the ridge.\n\nSam' }) },
  { mailbox: 'inbox', keywords: [], raw: crlf([
    'From: Weekly Digest <digest@news.example>', `To: ${ME}`, 'Subject: Your weekly digest: 5 stories',
    'Date: Thu, 16 Oct 2025 06:00:00 +0000', 'Message-ID: <digest-2025-42@news.example>',
    'List-Id: Weekly Digest <digest.news.example>', 'List-Unsubscribe: <mailto:unsubscribe@news.example>, <https://news.example/unsub?u=demo>',
    'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="digest-b"', '',
    '--digest-b', 'Content-Type: text/plain; charset=us-ascii', '',
    '1. Why IMAP is still everywhere', '2. JMAP in five minutes', '3. SQLite as an application file format',
    '4. The joy of small tools', '5. Autumn recipes', '',
    '--digest-b', 'Content-Type: text/html; charset=us-ascii', '',
    '<html><head><style>h1{color:#2b7ad8}</style></head><body><h1>Weekly digest</h1><ol><li>Why IMAP is still everywhere</li>',
    '<li>JMAP in five minutes</li><li>SQLite as an application file format</li><li>The joy of small tools</li><li>Autumn recipes</li></ol></body></html>',
    '--digest-b--', '']) },
  { mailbox: 'inbox', keywords: [], raw: [
    'From: Old Unix Box <cron@oldbox.example>', `To: ${ME}`, 'Subject: Cron report (bare LF line ends)',
    'Date: Fri, 17 Oct 2025 03:00:01 +0000', 'Message-ID: <cron.1760670001@oldbox.example>', '',
    'This message was written by a program that ends lines with a bare LF.', 'Backup finished: 3 files, 0 errors.', ''].join('\n') },
  { mailbox: 'inbox', keywords: ['$flagged'], raw: plain({
    from: 'Landlord Office <office@homes.example>', subject: 'Heating maintenance on 27 October',
    date: 'Mon, 20 Oct 2025 14:00:00 +0200', id: 'heating-2710@homes.example',
    body: 'Dear tenant,\n\nthe heating system will be serviced on Monday, 27 October, between 9:00 and 12:00.\nPlease make sure the radiators are accessible.\n\nKind regards,\nThe office' }) },
  { mailbox: 'inbox', keywords: [], raw: plain({
    from: 'Maya Lindqvist <maya@lindqvist.example>', subject: 'Photos from the ridge 🏔',
    date: 'Sun, 26 Oct 2025 21:14:00 +0100', id: 'ridge-photos@lindqvist.example',
    body: 'Alex,\n\nthe photos from Saturday are up. The view from the top was unreal — worth every step.\n\nMaya' }) },
  { mailbox: 'sent', keywords: ['$seen'], raw: plain({
    from: ME, to: 'Sam Okafor <sam@okafor.example>, Maya Lindqvist <maya@lindqvist.example>',
    subject: 'Re: Hiking this weekend?', date: 'Mon, 13 Oct 2025 20:02:00 +0200', id: 'hike-3@example.org',
    extra: ['In-Reply-To: <hike-2@lindqvist.example>', 'References: <hike-1@okafor.example> <hike-2@lindqvist.example>'],
    body: 'Sounds perfect. I will bring coffee and my old map.\n\nAlex' }) },
  { mailbox: 'sent', keywords: ['$seen'], raw: plain({
    from: ME, to: '=?UTF-8?Q?Ren=C3=A9e_Fran=C3=A7ois?= <renee@atelier.example>', subject: 'Re: =?UTF-8?Q?Caf=C3=A9_on_Thursday=3F?=',
    date: 'Tue, 7 Oct 2025 18:30:00 +0200', id: 'cafe-reply@example.org',
    extra: ['In-Reply-To: <cafe.1@atelier.example>', 'References: <cafe.1@atelier.example>'],
    body: 'Avec plaisir! Thursday at 10:00 works. Looking forward to the crème brûlée.\n\nAlex' }) },
  { mailbox: 'drafts', keywords: ['$draft', '$seen'], raw: plain({
    from: ME, to: 'Priya Raman <priya@design.example>', subject: 'Re: Logo draft attached',
    date: 'Sat, 11 Oct 2025 10:00:00 +0200', id: 'draft-logo@example.org',
    body: 'Hi Priya,\n\nI like the blue circle. Could we try' }) },
  { mailbox: 'trash', keywords: ['$seen'], raw: plain({
    from: 'Shop Newsletter <news@shop.example>', subject: 'Last chance: 20% off umbrellas',
    date: 'Wed, 15 Oct 2025 12:00:00 +0000', id: 'umbrella-sale@shop.example',
    body: 'Rain is coming. So are our umbrellas. Use code RAINY20 before Sunday.' }) },
  { mailbox: 'junk', keywords: ['$junk'], raw: plain({
    from: 'Prize Department <winner@lottery.example>', subject: 'You have WON 1,000,000 credits!!!',
    date: 'Sat, 18 Oct 2025 02:13:00 +0000', id: 'win-123456@lottery.example',
    body: 'Congratulations!!! Send us your bank details to claim your prize. (This is the demo junk message.)' }) },
  { mailbox: 'archive', keywords: ['$seen'], raw: plain({
    from: 'Train Tickets <tickets@rail.example>', subject: 'Your booking: Hamburg → Copenhagen',
    date: 'Thu, 2 Oct 2025 16:40:00 +0200', id: 'booking-HH-CPH@rail.example',
    body: 'Booking reference: QX7F2\nHamburg Hbf 08:27 → København H 13:14\nCoach 7, seat 64 (window)\n\nHave a pleasant journey.' }) },
  { mailbox: 'Projects', keywords: ['$seen'], raw: plain({
    from: 'Maya Lindqvist <maya@lindqvist.example>', subject: 'Project kickoff notes',
    date: 'Wed, 1 Oct 2025 10:00:00 +0200', id: 'kickoff@lindqvist.example',
    body: 'Kickoff notes:\n- goal: IMAP clients on top of JMAP\n- first milestone: Thunderbird can read this folder\n\nMaya' }) },
  { mailbox: 'Projects/Gateway', keywords: ['$seen', '$flagged'], raw: plain({
    from: 'CI Bot <ci@build.example>', subject: '[gateway] build #128 passed',
    date: 'Wed, 22 Oct 2025 13:37:00 +0000', id: 'build-128@build.example',
    body: 'Build #128 passed in 2m 14s.\nTests: 412 passed, 0 failed.' }) },
  { mailbox: 'Projects/Gateway', keywords: [], raw: plain({
    from: 'Sam Okafor <sam@okafor.example>', subject: 'UIDVALIDITY question',
    date: 'Thu, 23 Oct 2025 15:02:00 +0000', id: 'uidvalidity-q@okafor.example',
    body: 'Quick one: do we seed UIDVALIDITY from the clock? I think we should, so a rebuilt store never reuses a value.\n\nSam' }) },
];
