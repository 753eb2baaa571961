#!/usr/bin/env python3
"""Python's standard imaplib as a client of the scenario suite (test/scenarios/suite.ts).

Usage: imaplib_scenario.py HOST PORT USER PASSWORD
On mailbox Py holding py-1 and py-2 (body "needle in here"): SELECT, SEARCH BODY, FETCH, STORE, COPY to Archive,
APPEND, STORE \\Deleted + EXPUNGE, UID FETCH. Prints one JSON object for the test to check.
"""
import email
import imaplib
import json
import re
import sys

host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
m = imaplib.IMAP4(host, port)
out = {}
out['login'] = m.login(user, password)[0]
typ, data = m.select('Py')
out['exists'] = int(data[0])
typ, data = m.search(None, 'BODY', 'needle')
out['search_body'] = data[0].decode().split()
typ, data = m.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT)])')
out['subject_1'] = str(email.message_from_bytes(data[0][1])['Subject'])
typ, data = m.store('1', '+FLAGS', '(\\Flagged)')
out['store'] = data[0].decode()
typ, data = m.copy('1', 'Archive')
out['copy'] = data[-1].decode()
msg = b'From: py@example.org\r\nSubject: py-3\r\nMessage-ID: <py-3@example.org>\r\n\r\nappended by imaplib\r\n'
typ, data = m.append('Py', '(\\Seen)', None, msg)
out['append'] = data[-1].decode()
m.store('2', '+FLAGS', '(\\Deleted)')
typ, data = m.expunge()
out['expunged'] = [d.decode() for d in data if d]
typ, data = m.uid('FETCH', '1:*', '(UID)')
out['uids_after'] = [int(re.search(rb'UID (\d+)', d).group(1)) for d in data if d]
m.logout()
print(json.dumps(out))
