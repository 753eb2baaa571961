#!/usr/bin/env python3
"""Python's imaplib logging in with a bearer token: MECH is XOAUTH2 or OAUTHBEARER.

Usage: auth_oauth_client.py MECH HOST PORT USER TOKEN
Prints one JSON object: the capabilities, the AUTHENTICATE outcome, and the mailbox count after login.
"""
import imaplib
import json
import sys

mech, host, port, user, token = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
m = imaplib.IMAP4(host, port)
out = {'capabilities': list(m.capabilities)}
if mech == 'XOAUTH2':
    message = f'user={user}\x01auth=Bearer {token}\x01\x01'.encode()
else:
    message = f'n,a={user},\x01host={host}\x01port={port}\x01auth=Bearer {token}\x01\x01'.encode()
sent = []


def respond(challenge):
    # First call: the (empty) server challenge. After an error challenge: the dummy reply (RFC 7628 §3.2.3).
    sent.append(challenge)
    if len(sent) == 1:
        return message
    return b'\x01' if mech == 'OAUTHBEARER' else b''


try:
    typ, _ = m.authenticate(mech, respond)
    out['auth'] = typ
    typ, boxes = m.list()
    out['mailboxes'] = len(boxes)
    m.logout()
except imaplib.IMAP4.error as e:
    out['auth'] = 'NO'
    out['error'] = str(e)
    out['challenges'] = [c.decode('latin-1') for c in sent[1:]]
print(json.dumps(out))
