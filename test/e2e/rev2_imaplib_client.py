"""An IMAP4rev1 client (Python's imaplib, which never sends ENABLE) beside rev2 clients: prints what it saw as JSON.

Usage: rev2_imaplib_client.py host port user password mailbox-utf7
"""
import imaplib
import json
import sys

host, port, user, password, mailbox = sys.argv[1:6]
out = {}
m = imaplib.IMAP4(host, int(port))
out["capabilities"] = list(m.capabilities)
m.login(user, password)
typ, data = m.list('""', '"K*"')
out["list"] = [d.decode() for d in data if d]
typ, data = m.select(mailbox)
out["select"] = [typ, data[0].decode()]
out["recent"] = [d.decode() if d else None for d in m.untagged_responses.get("RECENT", [])]
typ, data = m.search(None, "ALL")
out["search"] = [typ, data[0].decode()]
typ, data = m.uid("SEARCH", None, "ALL")
out["uid_search"] = [typ, data[0].decode()]
m.logout()
print(json.dumps(out))
