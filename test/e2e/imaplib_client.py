#!/usr/bin/env python3
"""Python's standard imaplib as a real client of the gateway.

Usage: imaplib_client.py MODE HOST PORT USER PASSWORD   (MODE: plain | starttls | tls)
Logs in, LISTs, SELECTs INBOX, runs Thunderbird's folder listing FETCH, fetches UID 1..N with BODY.PEEK[],
logs out. Prints one JSON object on stdout for the test to check.
"""
import base64
import imaplib
import json
import re
import ssl
import sys

mode, host, port, user, password = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE

if mode == 'tls':
    m = imaplib.IMAP4_SSL(host, port, ssl_context=ctx)
else:
    m = imaplib.IMAP4(host, port)
out = {'capabilities_at_connect': list(m.capabilities)}
if mode == 'starttls':
    m.starttls(ssl_context=ctx)
out['capabilities_before_login'] = list(m.capabilities)
typ, _ = m.login(user, password)
out['login'] = typ
typ, boxes = m.list()
out['list'] = [b.decode() for b in boxes]
typ, data = m.select('INBOX')
out['exists'] = int(data[0])
typ, data = m.uid('FETCH', '1:*', '(UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Cc Bcc Subject Date '
                  'Message-ID Priority X-Priority References Newsgroups In-Reply-To Content-Type Reply-To)])')
rows = []
for item in data:
    if isinstance(item, tuple):
        meta = item[0].decode('latin-1')
        rows.append({
            'uid': int(re.search(r'UID (\d+)', meta).group(1)),
            'size': int(re.search(r'RFC822\.SIZE (\d+)', meta).group(1)),
            'headers': base64.b64encode(item[1]).decode(),
        })
out['listing'] = rows
bodies = {}
for row in rows:
    typ, data = m.uid('FETCH', str(row['uid']), '(BODY.PEEK[])')
    bodies[str(row['uid'])] = base64.b64encode(data[0][1]).decode()
out['bodies'] = bodies
typ, _ = m.logout()
out['logout'] = typ
print(json.dumps(out))
